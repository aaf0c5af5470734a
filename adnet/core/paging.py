"""limit/offset paging of list endpoints: one set of bounds and one error for all of them."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from adnet.core.errors import ValidationFailed

MAX_PAGE = 500
# An offset past PostgreSQL's bigint would be a database error (found by schemathesis).
MAX_OFFSET = 1_000_000_000

PAGE_PARAMS = [
    OpenApiParameter("limit", OpenApiTypes.INT, description=f"1 to {MAX_PAGE}, default 100"),
    OpenApiParameter("offset", OpenApiTypes.INT, description=f"0 to {MAX_OFFSET}, default 0"),
]


def page_params(request) -> tuple[int, int]:
    """The (limit, offset) a request asks for, or a 400 in the error shape."""
    try:
        limit = int(request.query_params.get("limit", 100))
        offset = int(request.query_params.get("offset", 0))
    except ValueError as exc:
        raise ValidationFailed(
            details={"limit": ["limit and offset must be whole numbers."]}
        ) from exc
    if not 1 <= limit <= MAX_PAGE or not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed(
            details={"limit": [f"limit must be 1 to {MAX_PAGE}, offset 0 to {MAX_OFFSET}."]}
        )
    return limit, offset
