"""What travels between the coordinator and a worker: JSON text both ways."""
from __future__ import annotations

import json

import nbformat
import pytest

from cnnlab.grading.workers import decode_result, encode_job, run_job


def test_a_job_and_its_result_are_json_text_and_files_arrive_byte_for_byte():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("data = open('images/x.bin', 'rb').read()\nprint(list(data), 6 * 7)")]
    files = {"images/x.bin": bytes([0, 1, 254, 255])}
    steps = [{"kind": "cell", "cell": 0, "source": nb.cells[0].source, "grade_id": None}]
    job = encode_job(nbformat.writes(nb), files, {"timeout": 30, "max_cell_output": 4096, "sandbox": False}, steps)
    assert isinstance(job, str) and json.loads(job)["files"]  # nothing but JSON goes to a worker
    text = run_job(job)
    assert isinstance(text, str)  # and nothing but JSON comes back
    result = decode_result(text)
    assert result["status"] == "ok"
    out = nbformat.reads(result["notebook"], as_version=4).cells[0].outputs
    assert out[0]["text"].strip() == "[0, 1, 254, 255] 42"


@pytest.mark.parametrize("sent", [
    {"status": "ok", "notebook": "{}", "probes": {}},       # an object, not text
    b'{"status": "ok"}',                                     # bytes (a pickle would be bytes too)
    "not json at all",
    json.dumps({"status": "ok", "notebook": 3, "probes": {}}),
    json.dumps(["status", "notebook", "probes"]),
])
def test_anything_but_an_execute_result_in_json_text_is_refused(sent):
    with pytest.raises(ValueError):
        decode_result(sent)
