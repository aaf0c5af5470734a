"""Settlement events and impression beacons: how delivery and impressions are verified."""
