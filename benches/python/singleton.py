"""The notes' In[73]-[74], scaled up: 10,000,000 `DatabaseConnection.get_connection()` calls
after the first (the fast path).

Twin of the singleton fast-path bench (`get` on an initialised value) in benches/executors.rs.
"""

import random

import _twin


class DatabaseConnection:
    _conn = None

    @staticmethod
    def get_connection():
        if DatabaseConnection._conn is None:
            DatabaseConnection._conn = f"SOME CONNECTION - {random.randint(1,10)}"
        return DatabaseConnection._conn


def main():
    args = _twin.parse(__doc__, 10_000_000)
    first = DatabaseConnection.get_connection()
    get = DatabaseConnection.get_connection

    def run():
        for _ in range(args.ops):
            get()

    # The `for` loop's own cost is part of the figure, as a caller's loop would be.
    seconds = _twin.timed(run)
    assert get() is first
    _twin.report("singleton", args.ops, seconds)


if __name__ == "__main__":
    main()
