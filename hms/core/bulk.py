"""A faster `bulk_create` for imports: INSERT statements built once per model and batch
size, instead of Django compiling SQL for every batch and value. The rows are converted by each
field's own `pre_save` and `get_db_prep_save` (auto_now timestamps, UUIDs, JSON, decimals), so
what is stored is what `bulk_create` would store. No signals are sent and primary keys must
already be set (UUID defaults are).

Not `executemany`: psycopg sends it as one statement per row, which PostgreSQL parses and plans
row by row. On PostgreSQL each column goes as one array, `INSERT ... SELECT * FROM UNNEST(...)`
(as Django's own `bulk_create` does): a short statement, whatever the number of rows. Elsewhere
one multi-row VALUES statement per batch."""

from collections.abc import Sequence

from django.db import connections, router

ROWS_PER_STATEMENT = 1000  # longer statements save nothing more and cost memory


def bulk_insert(objs: Sequence, batch_size: int = ROWS_PER_STATEMENT) -> int:
    if not objs:
        return 0
    model = type(objs[0])
    db = router.db_for_write(model)
    connection = connections[db]
    fields = [f for f in model._meta.concrete_fields if f.column]
    if any(getattr(obj, model._meta.pk.attname) is None for obj in objs):
        raise ValueError("bulk_insert needs primary keys set")
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    insert = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608  (names from the model)
    rows = [[f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objs]
    size = max(1, min(batch_size, connection.ops.bulk_batch_size(fields, objs)))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # No length in the types (varchar[], not varchar(50)[]): a value too long is then
            # refused by the column instead of cut short by the cast.
            arrays = ", ".join(f"%s::{f.db_type(connection).split('(')[0]}[]" for f in fields)
            sql = f"{insert}SELECT * FROM UNNEST({arrays})"  # noqa: S608  (types from the model)
            for start in range(0, len(rows), size):
                batch = zip(*rows[start : start + size], strict=True)
                cursor.execute(sql, [list(column) for column in batch])
        else:
            marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
            for start in range(0, len(rows), size):
                batch = rows[start : start + size]
                sql = insert + "VALUES " + ", ".join([marks] * len(batch))
                cursor.execute(sql, [value for row in batch for value in row])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = db
    return len(rows)
