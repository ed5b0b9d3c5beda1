"""Results cached by the key of the code that computed them: any change to the suite's files, its
libraries or the thread count is another key; an entry is read back only under its own key."""

from __future__ import annotations

import json

from suite import codekey
from suite.codekey import code_key, read_cached, write_cached


def test_each_input_of_the_key_changes_it(monkeypatch, tmp_path):
    key = code_key(2)
    assert code_key(2) == key and code_key(1) != key
    monkeypatch.setattr(codekey, "versions", lambda: {"torch": "0.0"})
    assert code_key(2) != key
    monkeypatch.undo()
    # an edit to any of the suite's files: the digest is recomputed over a copy with one byte more
    package = tmp_path / "suite"
    package.mkdir()
    (package / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(codekey, "PACKAGE", package)
    codekey.source_digest.cache_clear()
    before = codekey.source_digest()
    (package / "a.py").write_text("x = 2\n")
    codekey.source_digest.cache_clear()
    assert codekey.source_digest() != before
    codekey.source_digest.cache_clear()


def test_an_entry_is_read_only_under_its_own_key_and_never_half_written(tmp_path):
    write_cached(tmp_path, "k1", [{"passed": True}])
    assert read_cached(tmp_path, "k1") == [{"passed": True}]
    assert read_cached(tmp_path, "k2") is None
    # an entry renamed under another key (a collision) holds its own key: refused
    (tmp_path / "k1.json").rename(tmp_path / "k3.json")
    assert read_cached(tmp_path, "k3") is None
    # a corrupted entry is computed again, not read
    (tmp_path / "k4.json").write_text('{"key": "k4", "value": [')
    assert read_cached(tmp_path, "k4") is None
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert json.loads((tmp_path / "k3.json").read_text())["key"] == "k1"
