"""The REST API's request parsers (a module of its own: DRF imports it while loading settings)."""

import json

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing with a 400 what would otherwise end in a 500 later:

    - a body nested deeper than Python's recursion limit (a few hundred bytes of `[[[[...`);
    - a lone surrogate (`"\\ud800"`): valid JSON, but no UTF-8 text can hold it, so a field that
      echoes it in its error message (a choice) or the database that stores it would fail.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            json.dumps(data, ensure_ascii=False).encode()
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        except UnicodeEncodeError:
            raise exceptions.ParseError("JSON parse error - a lone surrogate character.") from None
        return data
