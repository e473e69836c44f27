"""HAProxy answers what it refuses in our JSON shape, and refuses before gunicorn would."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
CONFIG = (DEPLOY / "haproxy" / "raumfuerraum.cfg").read_text()
GUNICORN = (DEPLOY / "gunicorn.conf.py").read_text()


@pytest.mark.parametrize("status", ["400", "408", "502", "503", "504"])
def test_it_answers_haproxys_own_errors_in_json(status):
    raw = (DEPLOY / "haproxy" / "errors" / f"{status}.http").read_bytes()
    head, body = raw.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])

    assert lines[0].startswith(f"HTTP/1.1 {status} ")
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Content-Length"]) == len(body)
    assert json.loads(body)["detail"]
    assert f"errorfile {status} /etc/haproxy/errors/raumfuerraum/{status}.http" in CONFIG


def test_it_refuses_long_addresses_and_many_headers_before_gunicorn_does():
    url_limit = int(re.search(r"url_len gt (\d+)", CONFIG).group(1))
    header_limit = int(re.search(r"req.hdr_cnt gt (\d+)", CONFIG).group(1))

    assert url_limit < int(re.search(r"limit_request_line = (\d+)", GUNICORN).group(1))
    assert header_limit < int(re.search(r"limit_request_fields = (\d+)", GUNICORN).group(1))
    # HAProxy's default buffer (tune.bufsize 16384) holds the whole head; no field can be
    # longer than what gunicorn takes.
    assert int(re.search(r"limit_request_field_size = (\d+)", GUNICORN).group(1)) >= 16384
    for answer in re.findall(r"string '(\{.*?\})'", CONFIG):
        assert json.loads(answer)["detail"]
