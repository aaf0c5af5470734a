"""Evidence checked on the chains themselves: what a transaction hash really did."""
