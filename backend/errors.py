"""The backend's one error type for input a person must fix (the server sends its message as it is)."""


class InputError(ValueError):
    """Input that cannot be stylised, with a message a person understands."""
