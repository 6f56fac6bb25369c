"""Count the SQL statements a block runs (tests and benchmarks).

Django's CaptureQueriesContext sees nothing across a test-client request here, because
`reset_queries` runs on request_started; an execute wrapper counts every statement.
"""

from contextlib import contextmanager

from django.db import connection


@contextmanager
def count_queries():
    statements: list[str] = []

    def wrapper(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield statements
