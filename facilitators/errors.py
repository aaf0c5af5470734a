"""Errors raised by the facilitators app."""

from adnet.core.errors import Conflict, NotFound


class FacilitatorNotFound(NotFound):
    code = "facilitator_not_found"
    default_message = "No such facilitator."


class FacilitatorNameTaken(Conflict):
    code = "facilitator_name_taken"
    default_message = "A facilitator with this name already exists."
