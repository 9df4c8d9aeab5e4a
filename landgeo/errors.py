"""The one exception type a user sees: a mistake of theirs, told in one line."""


class UserError(Exception):
    """A user's mistake (bad file, unknown CRS, wrong code, unreachable server).

    The CLI prints ``error: <message>`` on stderr and exits non-zero. The message must say what is wrong and
    where, in one line (a load refused because every feature was rejected adds one line per reason). The HTTP
    API does not use this type: a request's mistakes are answered with their own 4xx and an OGC exception body.
    """

    exit_code = 2
