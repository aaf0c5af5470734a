"""The matching engine: pure Python over plain campaign snapshots, no ORM and no request."""
