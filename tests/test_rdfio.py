"""Reading RDF input: clear errors naming source and line; nothing external is fetched."""

from __future__ import annotations

import pytest

from kg import rdfio
from kg.errors import InputError


@pytest.mark.parametrize(
    ("fmt", "data", "line"),
    [
        ("turtle", b'@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:a ex:b "open\n', 3),
        ("nt", b"<http://a/> <http://b/> <http://c/> .\n<http://a/> <http://b/> .\n", 2),
        (
            "xml",
            b'<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            b'<rdf:Description rdf:about="http://a/"><x/>\n</rdf:RDF>',
            4,
        ),
        ("json-ld", b'{"@id": "http://a/",\n "http://b/": [1,}', 2),
    ],
)
def test_syntax_errors_name_the_line(fmt: str, data: bytes, line: int) -> None:
    with pytest.raises(InputError) as info:
        rdfio.parse_bytes(data, fmt, source="upload.x")
    assert info.value.line == line
    assert str(info.value).startswith(f"upload.x, line {line}: ")


def test_not_utf8() -> None:
    with pytest.raises(InputError, match="not valid UTF-8"):
        rdfio.parse_bytes(b'<http://a/> <http://b/> "\xff" .\n', "nt")


def test_doctype_refused() -> None:
    doc = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
    )
    with pytest.raises(InputError, match="DOCTYPE"):
        rdfio.parse_bytes(doc, "xml")


def test_remote_jsonld_context_refused() -> None:
    with pytest.raises(InputError, match="remote @context"):
        rdfio.parse_bytes(b'{"@context": "http://127.0.0.1:9/ctx.jsonld", "@id": "http://a/"}', "json-ld")


def test_unknown_suffix(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "data.docx"
    p.write_bytes(b"x")
    with pytest.raises(InputError, match="cannot tell the RDF format"):
        rdfio.parse_file(p)
