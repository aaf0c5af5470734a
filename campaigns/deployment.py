"""This deployment's identity (campaigns.models.Deployment), read once per process."""

from campaigns.models import Deployment

_current: str | None = None


def current() -> str:
    """The deployment's id as hex: made on first use by any process, then cached (it never
    changes while the database lives; a restored database brings its own back)."""
    global _current
    found = _current
    if found is None:
        row, _ = Deployment.objects.get_or_create(pk=1)
        found = _current = row.uid.hex
    return found


def forget() -> None:
    """Read it again on next use (tests, whose database is emptied between them)."""
    global _current
    _current = None
