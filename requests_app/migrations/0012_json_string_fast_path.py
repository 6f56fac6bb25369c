"""lockbox_json_string with a fast path (issue 17): a text of printable ASCII without a quote or
a backslash, as most Cloud PC names are, is its own JSON string between quotes. The loop over
each character cost an operator action about 20 microseconds of the database's CPU. Every
other text is escaped as before (migration 0011); tests/requests/test_operator_function.py
compares the function with json.dumps on both paths.
"""

from importlib import import_module

from django.db import migrations

PREVIOUS = import_module("requests_app.migrations.0011_operator_action_function").JSON_STRING
# Space to tilde but for '"' (0x22) and '\' (0x5c): the characters json.dumps leaves alone.
PLAIN = r"^[\x20\x21\x23-\x5b\x5d-\x7e]*$"
FAST_PATH = "    IF value = '' THEN\n        RETURN '\"\"';\n    END IF;\n"
JSON_STRING = PREVIOUS.replace(
    FAST_PATH,
    f"    IF value ~ '{PLAIN}' THEN\n        RETURN '\"' || value || '\"';\n    END IF;\n",
)
assert JSON_STRING != PREVIOUS


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(JSON_STRING)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS)


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0011_operator_action_function")]

    operations = [migrations.RunPython(forward, backward)]
