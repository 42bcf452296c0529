"""The graph against the paper: Tables 1 and 2 re-read from the paper's own text and compared with the queries."""

from __future__ import annotations

import re

import pytest
import rdflib
from rdflib import Literal
from rdflib.namespace import RDF, RDFS, SKOS, XSD

from kg.namespaces import IFC, IFD
from kg.queries import QueryCatalog
from kg.settings import Settings
from kg.sources import load_graph, repository_sources
from kg.store import Store
from tests.test_queries import CATALOG

PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
SDMX_CODE = "http://purl.org/linked-data/sdmx/2009/code#"

STAGES = ["R and D", "production", "distribution"]


@pytest.fixture(scope="module")
def graph(settings: Settings) -> rdflib.Graph:
    """The repository's ontology and data in one graph, for the checks that need no store."""
    return load_graph(repository_sources(settings))


def plain(text: str) -> str:
    """The paper's running text: footnote lines, separators and footnote marks removed, a sentence broken by a
    page's footnotes joined again, markdown emphasis and escapes dropped, whitespace collapsed."""
    lines = [line for line in text.splitlines() if not re.match(r"^<sup>\d+</sup>", line) and line.strip() != "---"]
    out = re.sub(r"<sup>\d+</sup>", "", " ".join(lines))
    out = out.replace("\\*", "").replace("\\$", "$").replace("*", "")
    return " ".join(out.split())


def footnotes(text: str) -> dict[int, str]:
    """The printed footnotes, by number, without markdown emphasis, whitespace collapsed."""
    out = {}
    for m in re.finditer(r"^<sup>(\d+)</sup>(.*)$", text, re.MULTILINE):
        out[int(m.group(1))] = " ".join(m.group(2).replace("*", "").split())
    return out


def box(text: str, number: int) -> str:
    """The text of Box `number`, from its heading to its source line, as running text."""
    start = re.search(rf"^(?:#+ |\*\*)Box {number}\b", text, re.MULTILINE)
    assert start, number
    end = text.index("Source", start.end())
    return plain(text[start.start() : text.index("\n", end)])


def rows(graph: rdflib.Graph, query: str) -> list[tuple]:  # type: ignore[type-arg]
    return [tuple(r) for r in graph.query(query)]


def paper_table1(text: str) -> list[tuple[str, str, str]]:
    """(direction, stage, form) for every form printed in Table 1, in printed order."""
    out = []
    for line in text.splitlines():
        for direction in ("One-way relationships", "Two-way partnerships"):
            if line.startswith(direction + "\t"):
                cells = line.split("\t")[1:]
                assert len(cells) == 3, line
                for stage, cell in zip(STAGES, cells, strict=True):
                    for form in cell.strip().rstrip(".").split(";"):
                        out.append((direction, stage, re.sub(r"-\s+", "-", form.strip())))
    return out


def paper_table2(text: str) -> tuple[list[tuple[str, int | None]], int]:
    """The printed rows (name or "", number or None) of Table 2, and its printed total."""
    block = text.split("<i>Country</i>\t<i>Number</i>", 1)[1].split("<b>Total</b>", 1)
    rows = []
    for line in block[0].strip("\n").splitlines():
        name, _, number = line.partition("\t")
        rows.append((name.strip(), int(number) if number.strip() else None))
    total = int(re.search(r"<b>([\d,]+)</b>", block[1]).group(1).replace(",", ""))  # type: ignore[union-attr]
    return rows, total


def test_table1_regenerated(store: Store, paper_text: str) -> None:
    expected = paper_table1(paper_text)
    assert len(expected) == 20
    got = store.query(CATALOG.get("table1-agreement-taxonomy").text).rows
    got_rows = [(str(d), str(s), re.sub(r"-\s+", "-", str(f))) for d, s, f, _ in got]
    label = {"one-way relationship": "One-way relationships", "two-way partnership": "Two-way partnerships"}
    assert [(label[d], s, f) for d, s, f in got_rows] == expected


def test_table2_regenerated(store: Store, paper_text: str) -> None:
    printed, total = paper_table2(paper_text)
    assert len(printed) == 40 and total == 2598
    with_number = [(name or "(no name printed)", n) for name, n in printed if n is not None]
    assert len(with_number) == 38
    got = store.query(CATALOG.get("table2-it-alliances-by-country").text).rows
    body = [(str(c), int(n)) for _, c, n, _ in got[:-1]]  # type: ignore[arg-type]
    assert body == with_number
    assert got[-1][1] == Literal("Total")
    assert int(got[-1][2]) == total == int(got[-1][3])  # type: ignore[arg-type]


def test_table2_rows_without_number_or_name_are_kept_and_flagged(graph: rdflib.Graph, paper_text: str) -> None:
    """A row printed without a name is a statistic of an area not named; a row printed without a number is a
    printed row with the SDMX status "missing value", not an observation (a Data Cube observation has its measure)."""
    printed, _ = paper_table2(paper_text)
    q = """
    PREFIX ifc: <https://w3id.org/interfirm/ontology#>
    PREFIX qb: <http://purl.org/linked-data/cube#>
    PREFIX dcterms: <http://purl.org/dc/terms/>
    PREFIX sdmx-attribute: <http://purl.org/linked-data/sdmx/2009/attribute#>
    SELECT ?row ?name ?n ?kind ?status WHERE {
      { ?o qb:dataSet <https://w3id.org/interfirm/id/table-2-dataset> ; ifc:printedRow ?row ; ifc:value ?n ;
           ifc:refArea ?area .
        OPTIONAL { ?area a ?kind . FILTER (?kind = ifc:UnnamedArea) } }
      UNION
      { ?o a ifc:TableRow ; dcterms:isPartOf <https://w3id.org/interfirm/id/table-2> ; ifc:printedRow ?row ;
           sdmx-attribute:obsStatus ?status . }
      OPTIONAL { ?o ifc:printedAreaName ?name }
    } ORDER BY ?row"""
    rows = list(graph.query(q))
    assert len(rows) == len(printed) == 40
    for (row, name, n, kind, status), (pname, pn) in zip(rows, printed, strict=True):
        assert (str(name) if name is not None else "") == pname, row
        assert (int(n) if n is not None else None) == pn, row
        assert (kind is not None) == (not pname), row
        if pn is None:
            assert str(status) == SDMX_CODE + "obsStatus-M", row
        else:
            assert status is None and n.datatype == XSD.integer, row


@pytest.mark.parametrize(
    ("letter", "opening"),
    [
        ("a", "How are clusters formed"),
        ("b", "In what ways do formal and informal institutions"),
        ("c", "Do these clusters have within their confines"),
        ("d", "What are the characteristics and effects of networks"),
        ("e", "Has process specialization developed"),
        ("f", "Under which general and specific conditions"),
        ("g", "Why and how does clustering increase"),
        ("h", "Assuming that more extensive research"),
        ("i", "What are the driving forces and motivating factors"),
        ("j", "What are the implications of partnering and networking"),
        ("k", "What types of technical cooperation and assistance"),
    ],
)
def test_research_question_full_text(store: Store, paper_text: str, letter: str, opening: str) -> None:
    rows = store.query(CATALOG.get("research-questions-by-theme").text).rows
    by_letter = {str(r[1]): (str(r[0]), str(r[2])) for r in rows}
    assert len(by_letter) == 11
    theme, question = by_letter[letter]
    assert question.startswith(opening)
    # the last match: "(i)" and "(ii)" also number the two themes
    printed = re.findall(rf"^\s*- \({letter}\) (.+)$", paper_text, re.MULTILINE)[-1].strip()
    assert " ".join(question.split()) == " ".join(printed.split())
    assert theme == (
        "Formation and development of clusters and networks" if letter <= "g" else "Sustaining partnership"
    )


def test_catalog_is_the_queries_folder() -> None:
    assert isinstance(CATALOG, QueryCatalog)


# ---- the regional shares: each stated share beside what Table 2 gives for the same area ----------------------


def stated_shares(text: str) -> dict[str, float]:
    """The regional shares of IT alliances that Part I.C and footnote 22 state, by region."""
    t = plain(text)
    asia = re.search(r"Asian firms \(excluding [^)]*\) accounted for ([\d.]+)% of the total", t)
    rest = re.search(
        r"Firms in Eastern Europe and the former Soviet Union accounted for ([\d.]+)%, Latin American firms for "
        r"([\d.]+)% and African firms for ([\d.]+)% of the total",
        t,
    )
    with_za = re.search(r"African firms including South Africa accounted for ([\d.]+)%", footnotes(text)[22])
    assert asia and rest and with_za
    return {
        "Asia": float(asia.group(1)),
        "Eastern Europe and the former Soviet Union": float(rest.group(1)),
        "Latin America": float(rest.group(2)),
        "Africa": float(rest.group(3)),
        "Africa including South Africa": float(with_za.group(1)),
    }


def test_africa_shares_are_shown_beside_table2_for_their_own_area(store: Store, paper_text: str) -> None:
    shares = stated_shares(paper_text)
    printed, total = paper_table2(paper_text)
    count = {name: n for name, n in printed if n is not None}
    without_za = count["Africa"] + count["Egypt"]
    with_za = without_za + count["South Africa"]
    got = {
        float(r[2]): (str(r[1]), int(r[3]), float(r[4]), str(r[5]))
        for r in store.query(CATALOG.get("regional-shares").text).rows
    }
    assert got[shares["Africa"]][:3] == (
        "Africa excluding South Africa",
        without_za,
        round(100 * without_za / total, 1),
    )
    assert got[shares["Africa including South Africa"]][:3] == ("Africa", with_za, round(100 * with_za / total, 1))
    assert got[shares["Africa"]][3] == "irreconcilable with another part of the source"
    assert got[shares["Africa including South Africa"]][3] == ""
    assert got[shares["Africa including South Africa"]][2] == shares["Africa including South Africa"]


def test_the_africa_share_of_part_ic_cannot_be_reconciled_with_table2(graph: rdflib.Graph, paper_text: str) -> None:
    """0.2% fits neither Table 2's African rows nor the total of the four shares; footnote 22's 1.2% fits both."""
    shares = stated_shares(paper_text)
    printed, total = paper_table2(paper_text)
    count = {name: n for name, n in printed if n is not None}
    others = shares["Asia"] + shares["Eastern Europe and the former Soviet Union"] + shares["Latin America"]
    assert round(others + shares["Africa including South Africa"], 1) == 99.5
    assert round(others + shares["Africa"], 1) == 98.5
    # every African aggregate that includes the row "Africa" (23): alone, with Egypt, with South Africa, with both
    aggregates = [count["Africa"] + e + z for e in (0, count["Egypt"]) for z in (0, count["South Africa"])]
    assert shares["Africa"] not in {round(100 * n / total, 1) for n in aggregates}
    assert shares["Africa including South Africa"] == round(100 * max(aggregates) / total, 1)
    stat = IFD["stat-regional-share-africa-1984-1994"]
    assert (stat, IFC.sourceDefect, IFC.Irreconcilable) in graph
    assert graph.value(stat, IFC.refArea) == IFD["region-africa-excluding-south-africa"]


# ---- citations --------------------------------------------------------------------------------------------


def test_every_footnote_keeps_its_printed_text(graph: rdflib.Graph, paper_text: str) -> None:
    printed = footnotes(paper_text)
    assert len(printed) == 39
    for n, text in printed.items():
        stored = graph.value(IFD[f"footnote-{n}"], IFC.printedText)
        assert stored is not None and " ".join(str(stored).split()) == text, n


def test_nicholas_1997_is_cited_as_footnote_21_prints_it(graph: rdflib.Graph, paper_text: str) -> None:
    notes = footnotes(paper_text)
    ref = IFD["ref-nicholas-1997"]
    assert str(graph.value(ref, DCTERMS.bibliographicCitation)) == notes[21]
    assert notes[21].startswith("Nicholas, S.")
    # footnote 14's abbreviated form (first author missing) is kept as footnote 14's printed text
    assert "Vonortas, N. S. and Safioleas, S. P. (1997)" in notes[14]
    assert str(graph.value(IFD["footnote-14"], IFC.printedText)) == notes[14]
    assert (IFD["footnote-14"], rdflib.URIRef("http://purl.org/spar/cito/cites"), ref) in graph


def test_unctad_dst13_citation_matches_its_title(graph: rdflib.Graph, paper_text: str) -> None:
    ref = IFD["ref-unctad-1996-dst-13"]
    title = str(graph.value(ref, DCTERMS.title))
    citation = str(graph.value(ref, DCTERMS.bibliographicCitation))
    assert title in citation
    assert citation in footnotes(paper_text)[31]
    assert "Technological Partnership" not in citation


# ---- Samsung and Hewlett-Packard, Box 6 ----------------------------------------------------------------------


def test_second_source_agreement_has_the_stage_the_paper_gives(graph: rdflib.Graph, paper_text: str) -> None:
    """Part II.C groups second-sourcing with subcontracting and OEM, which Table 1 prints under production; the
    paper says nothing of R and D for it."""
    text = plain(paper_text)
    assert "Subcontracting, original equipment manufacturing (OEM) and second-sourcing agreements" in text
    stages = {
        stage
        for _, stage, form in paper_table1(paper_text)
        if form in ("sub-contracting", "original equipment manufacturing")
    }
    assert stages == {"production"}
    agreement = IFD["agreement-samsung-hewlett-packard-second-source"]
    got = {str(graph.value(s, RDFS.label)) for s in graph.objects(agreement, IFC.valueChainStage)}
    assert got == stages
    assert graph.value(agreement, IFC.direction) == IFC.OneWay
    assert (
        "unidirectional technology flow is the second most popular form of cooperation, largely due to second-sourcing"
        in text
    )


def test_every_samsung_agreement_has_an_orientation(graph: rdflib.Graph, paper_text: str) -> None:
    box6 = box(paper_text, 6)
    for partner in ("Toshiba", "IBM", "Fujitsu", "NCR", "Motorola"):
        assert partner in box6
    printed, _ = paper_table2(paper_text)
    assert "Republic of Korea" in {name for name, _ in printed}  # Samsung's country counts as developing
    samsung = IFD["firm-samsung"]
    agreements = set(graph.subjects(IFC.hasPartner, samsung))
    assert len(agreements) == 7
    for a in agreements:
        partners = set(graph.objects(a, IFC.hasPartner)) - {samsung}
        names = {str(graph.value(p, RDFS.label)) for p in partners}
        assert graph.value(a, IFC.orientation) == IFC.NorthSouth, (a, names)
        assert all(graph.value(graph.value(p, IFC.basedIn), IFC.economyType) == IFC.DevelopedEconomy for p in partners)


# ---- definitions that contradicted the data or the paper -----------------------------------------------------


def test_developed_economy_is_not_oecd_membership(graph: rdflib.Graph, paper_text: str) -> None:
    """Table 2 counts OECD members of 1997 among developing and transitional economies: none is typed developed."""
    printed, _ = paper_table2(paper_text)
    assert "developing countries and transitional economies" in plain(paper_text)
    q = """PREFIX ifc: <https://w3id.org/interfirm/ontology#>
    SELECT ?name ?type WHERE { ?row ifc:printedAreaName ?name . ?row ifc:refArea|<http://purl.org/dc/terms/spatial> ?a .
                               ?a ifc:economyType ?type . }"""
    types = {str(name): t for name, t in graph.query(q)}
    for oecd_member in ("Mexico", "Republic of Korea", "Turkey", "Czech Republic", "Hungary", "Poland"):
        assert oecd_member in {name for name, _ in printed}
        assert types[oecd_member] in (IFC.DevelopingEconomy, IFC.TransitionEconomy), oecd_member
    assert all(t != IFC.DevelopedEconomy for t in types.values())
    assert "other OECD members" not in str(graph.value(IFC.DevelopedEconomy, SKOS.definition))


def test_north_north_includes_same_country_agreements(graph: rdflib.Graph, paper_text: str) -> None:
    assert "more than a half of the agreements being concluded between firms based in the same country" in plain(
        paper_text
    )
    definition = str(graph.value(IFC.NorthNorth, SKOS.definition))
    assert "same country" in definition and "cross-border" not in definition


def test_box7_lists_its_criteria_among_others(graph: rdflib.Graph, paper_text: str) -> None:
    box7 = box(paper_text, 7)
    assert "among others" in box7
    criteria = re.findall(r"\((i|ii|iii|iv|v)\)", box7)
    summary = str(graph.value(IFD["case-box-7"], IFC.summary))
    assert "among others" in summary and "five criteria" not in summary.replace("five listed criteria", "")
    assert len(set(graph.objects(IFD["policy-irish-tags"], IFC.eligibilityCriterion))) == len(criteria) == 5


def test_government_acts_at_all_levels(graph: rdflib.Graph, paper_text: str) -> None:
    assert "government at all levels plays a vital role" in plain(paper_text)
    definition = str(graph.value(IFC.Government, SKOS.definition))
    assert "at all levels" in definition and "A national government" not in definition
    assert (IFC.RegionalOrLocalGovernment, RDFS.subClassOf, IFC.Government) in graph


def test_export_processing_zones_are_not_technology_parks(graph: rdflib.Graph, paper_text: str) -> None:
    text = plain(paper_text)
    assert "clusters (industrial districts/technology parks)" in text
    assert "technopoles, science parks or export processing zones" in text
    definition = str(graph.value(IFC.TechnologyPark, SKOS.definition))
    assert "Export processing zones, which governments also set up, are not technology parks." in definition
    assert "or export processing zone" not in definition


# ---- Box 5: the arrangements as agreements ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "agreement", "form", "direction", "stage"),
    [
        (
            "These products are marketed by Quest International worldwide",
            "quest-biocon-india-worldwide-marketing",
            "form-marketing-agreement",
            "OneWay",
            "Distribution",
        ),
        (
            "Biocon India has the exclusive rights to market them in India",
            "quest-biocon-india-marketing-rights-india",
            "form-marketing-agreement",
            "OneWay",
            "Distribution",
        ),
        (
            "the rights will be jointly held both by Biocon India and Quest International",
            "quest-biocon-india-joint-patents",
            "form-joint-patent-ownership",
            "TwoWay",
            "ResearchAndDevelopment",
        ),
        (
            "Biocon India transfers the know-how to Quest International's manufacturing sites abroad",
            "biocon-india-quest-know-how-transfer",
            "form-know-how-transfer",
            "OneWay",
            "Production",
        ),
    ],
)
def test_box5_arrangement_is_an_agreement(
    graph: rdflib.Graph, paper_text: str, printed: str, agreement: str, form: str, direction: str, stage: str
) -> None:
    assert printed in box(paper_text, 5)
    a = IFD[f"agreement-{agreement}"]
    assert (a, RDF.type, IFC.InterFirmAgreement) in graph
    assert set(graph.objects(a, IFC.hasPartner)) == {IFD["firm-biocon-india"], IFD["firm-quest-international"]}
    assert graph.value(a, IFC.hasForm) == IFD[form]
    assert graph.value(a, IFC.direction) == IFC[direction]
    assert graph.value(a, IFC.valueChainStage) == IFC[stage]
    assert graph.value(a, IFC.orientation) == IFC.SouthNorth  # the box's title: "(South-North)"
    assert graph.value(a, DCTERMS.isPartOf) == IFD["agreement-quest-biocon-india-alliance"]
    assert (IFD["case-box-5"], IFC.describes, a) in graph


def test_box5_royalties_in_both_cases(graph: rdflib.Graph, paper_text: str) -> None:
    assert "In both cases, Biocon India receives royalties from Quest International." in box(paper_text, 5)
    paying = set(graph.subjects(IFC.royaltiesPaidTo, IFD["firm-biocon-india"]))
    assert paying == {
        IFD["agreement-quest-biocon-india-worldwide-marketing"],
        IFD["agreement-biocon-india-quest-know-how-transfer"],
    }


# ---- claims of Box 2 and Part I.C, the self-contradicting sentence --------------------------------------------


def test_every_claim_with_printed_text_is_printed_in_the_paper(graph: rdflib.Graph, paper_text: str) -> None:
    text = plain(paper_text)
    claims = set(graph.subjects(RDF.type, IFC.Claim))
    printed = {c: str(graph.value(c, IFC.printedText)) for c in claims if graph.value(c, IFC.printedText)}
    assert len(printed) >= 13
    for claim, words in printed.items():
        assert " ".join(words.replace("*", "").split()) in text, claim


@pytest.mark.parametrize(
    "opening",
    [
        "The same source found that the significant rate of growth in inter-firm alliances in IT",
        "Among other non-OECD countries that mostly participated in these alliances are NICs",
        "In information technologies, on the other hand, unidirectional technology flow is the second most popular",
        "A great part of all these agreements - according to some sources about one half",
        "In biotechnology large pharmaceutical companies have entered",
    ],
)
def test_box2_and_part_ic_statements_are_claims(graph: rdflib.Graph, paper_text: str, opening: str) -> None:
    assert opening in plain(paper_text)
    texts = [str(o) for o in graph.objects(None, IFC.printedText)]
    assert any(t.startswith(opening) for t in texts), opening


def test_self_contradicting_sentence_is_kept_whole_and_flagged(graph: rdflib.Graph, paper_text: str) -> None:
    text = plain(paper_text)
    start = text.index("Inter-firm agreements involving firms from developing countries are primarily contractual")
    sentence = text[start : text.index(".", start) + 1]
    assert "joint ventures, and equity investments are the predominant forms" in sentence
    claims = [c for c in graph.subjects(IFC.printedText, Literal(sentence))]
    assert len(claims) == 1
    assert (claims[0], IFC.sourceDefect, IFC.SelfContradiction) in graph
    # neither half is stated elsewhere as a fact of its own
    for s, p, o in graph:
        if isinstance(o, Literal) and s != claims[0] and p in (SKOS.definition, IFC.statement, IFC.summary):
            assert "predominant form" not in str(o), s


# ---- footnotes and research questions linked to facts and concepts --------------------------------------------


def test_every_footnote_is_linked_to_a_fact(graph: rdflib.Graph, paper_text: str) -> None:
    bibliographic = ("http://purl.org/ontology/bibo/", "http://purl.org/spar/fabio/", "http://xmlns.com/foaf/0.1/")
    unlinked = []
    for n in footnotes(paper_text):
        facts = [
            x
            for x in graph.subjects(PROV.wasDerivedFrom, IFD[f"footnote-{n}"])
            if not any(str(t).startswith(bibliographic) for t in graph.objects(x, RDF.type))
        ]
        if not facts:
            unlinked.append(n)
    assert unlinked == []


@pytest.mark.parametrize(
    ("letter", "words", "concept"),
    [
        ("c", "a network of suppliers", IFD["form-customer-supplier-network"]),
        ("c", "spare parts", IFD["form-parts-and-components-supplier-network"]),
        ("e", "vertical chains of production", IFD["motivation-division-of-labour"]),
        ("e", "horizontal collaboration", IFD["motivation-meeting-large-orders"]),
        ("e", "technical upgrading", IFD["benefit-knowledge-upgrading-and-innovation"]),
        ("f", "viable economic growth", IFC.EnterpriseDevelopment),
        ("h", "regional policy framework", IFD["instrument-regional-support"]),
        ("h", "investments made in a foreign country", IFD["category-foreign-firm"]),
        ("h", "other forms of inter-firm agreements", IFD["form-strategic-alliance"]),
        (
            "k",
            "technical cooperation and assistance",
            IFD["instrument-real-services-training-and-technical-assistance"],
        ),
    ],
)
def test_research_question_concept_links(
    graph: rdflib.Graph, paper_text: str, letter: str, words: str, concept: rdflib.URIRef
) -> None:
    question = re.findall(rf"^\s*- \({letter}\) (.+)$", paper_text, re.MULTILINE)[-1]
    assert words in question
    assert (IFD[f"rq-{letter}"], IFC.concerns, concept) in graph


# ---- saved queries the issue named ------------------------------------------------------------------------


def test_references_by_footnote_follows_cito_sub_properties(store: Store, paper_text: str) -> None:
    note17 = footnotes(paper_text)[17]
    assert (
        "IFR Securities Data Company" in note17 and "Trends and patterns in strategic technology partnering" in note17
    )
    got = [
        (str(r[2]), str(r[3])) for r in store.query(CATALOG.get("references-by-footnote").text).rows if int(r[0]) == 17
    ]
    assert ("World Investment Report 1997", "cites") in got
    assert ("IFR Securities Data Company data", "cites as data source") in got
    assert (
        "Trends and patterns in strategic technology partnering since the early seventies",
        "cites as data source",
    ) in got


def test_clusters_and_networks_one_row_per_entity(store: Store, graph: rdflib.Graph) -> None:
    got = store.query(CATALOG.get("clusters-and-networks").text).rows
    q = """PREFIX ifc: <https://w3id.org/interfirm/ontology#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    SELECT DISTINCT ?x WHERE { ?x a/rdfs:subClassOf* ?top . VALUES ?top { ifc:Cluster ifc:Network } }"""
    entities = rows(graph, q)
    assert len(got) == len(entities) == len({str(r[0]) for r in got})
    accra = next(r for r in got if str(r[0]).startswith("Light engineering"))
    assert sorted(str(accra[4]).split(" | ")) == ["light engineering", "metal-working"]


# ---- policy level: one rule for every instrument, measure and consideration ---------------------------------


def section_levels(text: str) -> dict[str, rdflib.URIRef]:
    """Part III's sections and the level each is printed for (A government/macro, B intermediaries/meso, C micro)."""
    t = plain(text)
    assert "(i) the government (macro level); (ii) the intermediaries, (meso level)" in t
    assert "(iii) the enterprises (micro level)" in t
    headings = {
        "III-A": "A. At the government level",
        "III-B": "B. At the level of intermediaries",
        "III-C": "C. At the enterprise level",
    }
    assert all(h in t for h in headings.values())
    return {"III-A": IFC.MacroLevel, "III-B": IFC.MesoLevel, "III-C": IFC.MicroLevel}


def test_policy_level_is_the_level_of_the_part_iii_section(graph: rdflib.Graph, paper_text: str) -> None:
    levels = section_levels(paper_text)
    checked = 0
    for kind in (IFC.PolicyInstrument, IFC.PolicyMeasure, IFC.PolicyConsideration):
        for item in graph.subjects(RDF.type, kind):
            sections = set()
            for part in graph.objects(item, PROV.wasDerivedFrom):
                for sec in [part, *graph.transitive_objects(part, DCTERMS.isPartOf)]:
                    local = str(sec).rsplit("/", 1)[-1].removeprefix("section-")
                    if local in levels:
                        sections.add(local)
            if not sections:
                continue  # Part III's introduction, before the three sections
            checked += 1
            assert set(graph.objects(item, IFC.policyLevel)) == {levels[s] for s in sections}, item
    assert checked > 60
    assert graph.value(IFD["policy-irish-tags"], IFC.policyLevel) == IFC.MesoLevel  # Box 7 is printed in III.B
    actors = set(graph.objects(IFD["instrument-investments-creating-specialized-factors"], IFC.actorKind))
    assert actors == {IFD["institution-government"], IFD["institution-regional-government"]}  # all levels


# ---- statistics: integer counts ----------------------------------------------------------------------------


def test_counts_are_integers(graph: rdflib.Graph) -> None:
    counts = list(graph.subjects(IFC.unit, IFC.Count))
    assert len(counts) > 40
    for s in counts:
        assert graph.value(s, IFC.value).datatype == XSD.integer, s


def test_cross_border_agreement_counts_as_printed(store: Store, paper_text: str) -> None:
    m = re.search(r"have increased from ([\d,]+) in (\d{4}) to ([\d,]+) in (\d{4})", plain(paper_text))
    assert m
    got = {(str(r[0]), int(r[1])): int(r[2]) for r in store.query(CATALOG.get("agreement-counts-over-time").text).rows}
    measure = "number of cross-border inter-firm agreements"
    assert got[(measure, int(m.group(2)))] == int(m.group(1).replace(",", ""))
    assert got[(measure, int(m.group(4)))] == int(m.group(3).replace(",", ""))


# ---- definitions from general knowledge say so ---------------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def test_definitions_not_taken_from_the_paper_say_so(graph: rdflib.Graph, paper_text: str) -> None:
    """A domain concept's definition shares wording with the paper (a run of four words), or carries a note that it
    comes from general knowledge; the terms the issue named carry the note in any case."""
    words = _words(re.sub(r"<[^>]+>", " ", paper_text))
    grams = {tuple(words[i : i + 4]) for i in range(len(words) - 3)}

    def general_knowledge(s: rdflib.term.Node) -> bool:
        notes = [*graph.objects(s, IFC.sourceNote), *graph.objects(s, SKOS.scopeNote)]
        return any("general knowledge" in str(n).lower() for n in notes)

    kinds = (
        IFC.AgreementForm,
        IFC.Sector,
        IFC.Motivation,
        IFC.Benefit,
        IFC.InstitutionKind,
        IFC.PolicyInstrument,
        IFC.Measure,
    )
    concepts = {s for k in kinds for s in graph.subjects(RDF.type, k)}
    concepts |= set(graph.subjects(SKOS.inScheme, IFD["enterprise-category-scheme"]))
    for top in (IFC.Firm, IFC.InterFirmCooperation, IFC.Intermediary, IFC.Government):
        concepts |= {c for c in graph.transitive_subjects(RDFS.subClassOf, top) if isinstance(c, rdflib.URIRef)}
    missing = []
    for s in sorted(concepts):
        definition = graph.value(s, SKOS.definition)
        if definition is None:
            continue
        w = _words(str(definition))
        shared = any(tuple(w[i : i + 4]) in grams for i in range(len(w) - 3))
        if not shared and not general_knowledge(s):
            missing.append(str(s))
    assert missing == []
    named = [
        "form-franchising",
        "form-co-production",
        "form-system-products",
        "form-foreign-direct-investment",
        "category-tnc",
        "instrument-technopoles",
        "instrument-science-parks",
    ]
    for local in named:
        assert general_knowledge(IFD[local]), local
    assert general_knowledge(IFC.TransnationalCorporation)
    for sector in graph.subjects(RDF.type, IFC.Sector):
        assert general_knowledge(sector), sector
