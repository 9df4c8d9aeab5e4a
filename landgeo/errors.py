"""The one exception type a user sees: a mistake of theirs, told in one line."""


class UserError(Exception):
    """A user's mistake (bad file, unknown CRS, wrong code, unreachable server).

    The CLI prints ``error: <message>`` on stderr and exits non-zero; the API turns it into a 400.
    The message must say what is wrong and where, in one line.
    """

    exit_code = 2
