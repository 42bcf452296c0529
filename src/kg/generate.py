"""Synthetic but realistic data for benchmarks and scale tests: firms, clusters, networks and agreements.

The output is written line by line (N-Triples, or Turtle for a `.ttl` file) and never held in memory: firm
attributes are a pure function of (seed, firm number), and only small bounded pools of recent firms are kept
for picking co-located members. The vocabulary it draws on (countries with their economy type, sectors, the
Table 1 entries and the agreement forms) is read from the repository's data when generation starts. The same
seed gives the same bytes.
"""

from __future__ import annotations

import random
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TextIO

import rdflib
from rdflib.namespace import RDF, RDFS, SKOS

from kg.errors import InputError
from kg.namespaces import IFC, IFD, PREFIXES, SYNTHETIC

GEN_BASE = str(SYNTHETIC)  # made-up data never shares the namespace of the paper's resources (`ifd:`)
FIRST_YEAR, LAST_YEAR = 1980, 2024
CASE_SIZE = 40  # entities described by one generated case
POOL_SIZE = 200  # recent firms kept per country, sector and kind

_RDF = str(RDF)
_RDFS = str(RDFS)
_XSD = "http://www.w3.org/2001/XMLSchema#"
_PROV = "http://www.w3.org/ns/prov#"
_DCT = "http://purl.org/dc/terms/"
_BIBO = "http://purl.org/ontology/bibo/"
_IFC = str(IFC)

A = f"<{_RDF}type>"
LABEL = f"<{_RDFS}label>"
DERIVED = f"<{_PROV}wasDerivedFrom>"
SOURCE = f"<{_DCT}source>"

_FIRM_KINDS = ((0.25, "Firm"), (0.60, "SmallAndMediumEnterprise"), (0.15, "TransnationalCorporation"))
_CLUSTER_KINDS = (
    (0.55, "Cluster"),
    (0.15, "IndustrialDistrict"),
    (0.15, "SectorSpecificCluster"),
    (0.10, "TechnologyPark"),
    (0.05, "MarketSpecificCluster"),
)
_NETWORK_KINDS = (
    (0.30, "HorizontalNetwork"),
    (0.25, "VerticalNetwork"),
    (0.20, "InternationalProductionNetwork"),
    (0.10, "KnowledgeNetwork"),
    (0.15, "LocalSMESystem"),
)
_SYLLABLES = (
    "al ba ce da el fa go ha in ja ka lo ma no or pa qui ra sa ta ul va wo xe ya zu "
    "bri cor dan fel gar hol ker lin mar nor pel ros sen tor vin ber kas mun tek vol"
).split()
_DESCRIPTORS = ("", "", "", *"Industries Technologies Holdings Manufacturing Systems Group Works".split())
_LEGAL = {  # the legal form a firm's name ends with, by ISO country code (default Ltd. or Co.)
    code: form.replace("_", " ")
    for code, form in (
        pair.split("=")
        for pair in (
            "DE=GmbH AT=GmbH CH=AG JP=K.K. IN=Pvt._Ltd. BR=Ltda. FR=S.A. IT=S.p.A. NL=B.V. US=Inc. KR=Co.,_Ltd. "
            "CN=Co.,_Ltd. TW=Co.,_Ltd. MY=Sdn._Bhd. ID=PT MX=S.A._de_C.V. AR=S.A. CL=S.A. PL=Sp._z_o.o. CZ=s.r.o. "
            "DK=A/S"
        ).split()
    )
}


@dataclass(frozen=True)
class Country:
    iri: str
    label: str
    code: str
    south: bool  # a developing or transition economy


@dataclass(frozen=True)
class Entry:
    """A Table 1 entry: a form with the direction and value-chain stage it is printed under."""

    form: str
    form_label: str
    direction: str
    stage: str
    consortium: bool


@dataclass(frozen=True)
class Vocabulary:
    """What generated data refers to, read from the repository's data files."""

    countries: tuple[Country, ...]
    sectors: tuple[tuple[str, str], ...]  # (iri, label)
    entries: tuple[Entry, ...]


def load_vocabulary(data_dir: Path) -> Vocabulary:
    """Countries (with an economy type), sectors and Table 1 entries from `data/`, sorted by IRI."""
    g = rdflib.Graph()
    for name in ("places.ttl", "concepts.ttl", "table1.ttl"):
        path = data_dir / name
        if not path.is_file():
            raise InputError("a data file the generator reads is missing", source=str(path))
        g.parse(path, format="turtle")
    countries = []
    for c in sorted(set(g.subjects(RDF.type, IFC.Country)), key=str):
        economy, label, code = g.value(c, IFC.economyType), g.value(c, RDFS.label), g.value(c, IFC.isoAlpha2)
        if economy is None or label is None:
            continue
        south = economy in (IFC.DevelopingEconomy, IFC.TransitionEconomy)
        countries.append(Country(str(c), str(label), str(code or ""), south))
    sectors = tuple(
        (str(s), str(g.value(s, RDFS.label) or ""))
        for s in sorted(set(g.subjects(RDF.type, IFC.Sector)), key=str)
        if str(s).startswith(str(IFD) + "sector-")
    )
    consortium_roots = {IFD["form-consortium"], IFD["form-rd-consortium"]}
    entries = []
    for e in sorted(set(g.subjects(RDF.type, IFC.TaxonomyEntry)), key=str):
        form, direction, stage = g.value(e, IFC.entryForm), g.value(e, IFC.direction), g.value(e, IFC.valueChainStage)
        if form is None or direction is None or stage is None:
            continue
        broader = set(g.transitive_objects(form, SKOS.broader))
        entries.append(
            Entry(
                str(form),
                str(g.value(form, RDFS.label) or ""),
                str(direction),
                str(stage),
                bool(broader & consortium_roots),
            )
        )
    if not countries or not sectors or not entries:
        raise InputError(
            "the data holds no countries, sectors or Table 1 entries to generate from", source=str(data_dir)
        )
    return Vocabulary(tuple(countries), sectors, tuple(entries))


def parse_count(text: str) -> int:
    """A triple count written as 2000, 2_000 or 1e6."""
    try:
        value = float(text.replace("_", "")) if re.search(r"[eE.]", text) else int(text.replace("_", ""))
    except ValueError:
        raise InputError(f"not a number of triples: {text!r}", hint="write e.g. 100000 or 1e5") from None
    if value < 1 or value != int(value):
        raise InputError(f"the number of triples must be a positive whole number, not {text!r}")
    return int(value)


def _mix(*values: int) -> int:
    """splitmix64 over the values: a fast, stateless, platform-independent hash."""
    x = 0x9E3779B97F4A7C15
    for v in values:
        x = (x ^ (v & 0xFFFFFFFFFFFFFFFF)) + 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 31
    return x


def _weighted(table: tuple[tuple[float, str], ...], u: float) -> str:
    acc = 0.0
    for weight, item in table:
        acc += weight
        if u < acc:
            return item
    return table[-1][1]


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"@en'


def _typed(value: str, datatype: str) -> str:
    return f'"{value}"^^<{_XSD}{datatype}>'


@dataclass(frozen=True)
class _Firm:
    index: int
    kind: str
    name: str
    short: str
    country: Country
    sectors: tuple[str, ...]
    founded: int


class _Writer:
    """Writes subject blocks as N-Triples lines or as Turtle with prefixed names; counts triples."""

    _LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

    def __init__(self, fh: TextIO, turtle: bool, prefixes: dict[str, str]) -> None:
        self.fh = fh
        self.turtle = turtle
        self.count = 0
        self.prefixes = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))
        if turtle:
            head = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(prefixes.items()))
            fh.write(head + "\n")

    def _short(self, term: str) -> str:
        if term.startswith("<"):
            iri = term[1:-1]
            for prefix, ns in self.prefixes:
                if iri.startswith(ns) and self._LOCAL.match(iri[len(ns) :]):
                    return f"{prefix}:{iri[len(ns) :]}"
            return term
        at = term.rfind("^^<")
        if at > 0:
            return term[: at + 2] + self._short(term[at + 2 :])
        return term

    def block(self, subject: str, pairs: list[tuple[str, str]]) -> None:
        """Statements about one subject."""
        if not pairs:
            return
        self.count += len(pairs)
        if not self.turtle:
            self.fh.write("".join(f"{subject} {p} {o} .\n" for p, o in pairs))
            return
        s = self._short(subject)
        groups: list[tuple[str, list[str]]] = []
        for p, o in pairs:
            if groups and groups[-1][0] == p:
                groups[-1][1].append(self._short(o))
            else:
                groups.append((p, [self._short(o)]))
        body = " ;\n    ".join(f"{'a' if p == A else self._short(p)} {' , '.join(os)}" for p, os in groups)
        self.fh.write(f"{s}\n    {body} .\n\n")


class Generator:
    """One generation run: `run()` writes entities until at least `triples` triples are written."""

    def __init__(self, vocabulary: Vocabulary, seed: int, triples: int) -> None:
        if seed < 0:
            raise InputError("the seed must be zero or positive")
        self.v = vocabulary
        self.seed = seed
        self.target = triples
        self.rng = random.Random(seed)
        self.base = f"{GEN_BASE}{seed}/"
        self.source = f"<{self.base}source>"
        self.firms = 0
        self.agreements = 0
        self.clusters = 0
        self.networks = 0
        self.cases = 0
        self._case_members = CASE_SIZE
        self.by_country: dict[str, deque[int]] = {c.iri: deque(maxlen=POOL_SIZE) for c in vocabulary.countries}
        self.by_sector: dict[str, deque[int]] = {s: deque(maxlen=POOL_SIZE) for s, _ in vocabulary.sectors}
        self.tncs: deque[int] = deque(maxlen=POOL_SIZE)
        self.smes: dict[str, deque[int]] = {c.iri: deque(maxlen=POOL_SIZE) for c in vocabulary.countries}
        # weights: half of the firms from developed economies, as in the alliance data bases of the period
        north = [c for c in vocabulary.countries if not c.south]
        south = [c for c in vocabulary.countries if c.south]
        self._country_table = [(0.5 / len(north), c) for c in north] if north else []
        self._country_table += [((1.0 if not north else 0.5) / len(south), c) for c in south] if south else []
        self.firm = lru_cache(maxsize=65536)(self._firm)

    def iri(self, kind: str, n: int) -> str:
        return f"<{self.base}{kind}-{n:06d}>"

    # ---- firms: a pure function of (seed, index) --------------------------------------------------------------
    def _firm(self, i: int) -> _Firm:
        h = _mix(self.seed, i, 1)
        u = (h & 0xFFFFFF) / 0x1000000
        kind = _weighted(_FIRM_KINDS, u)
        v = ((h >> 24) & 0xFFFFFF) / 0x1000000
        acc = 0.0
        country = self._country_table[-1][1]
        for weight, c in self._country_table:
            acc += weight
            if v < acc:
                country = c
                break
        h2 = _mix(self.seed, i, 2)
        n_syll = 2 + (h2 & 1)
        root = "".join(_SYLLABLES[(h2 >> (4 + 6 * k)) % len(_SYLLABLES)] for k in range(n_syll)).capitalize()
        descriptor = _DESCRIPTORS[(h2 >> 28) % len(_DESCRIPTORS)]
        legal = _LEGAL.get(country.code, "Ltd." if (h2 >> 33) & 1 else "Co.")
        name = " ".join(x for x in (root, descriptor, legal) if x)
        if legal == "PT":
            name = " ".join(x for x in ("PT", root, descriptor) if x)
        sectors = self.v.sectors
        first = sectors[(h2 >> 36) % len(sectors)][0]
        chosen = (first,)
        if (h2 >> 44) % 4 == 0:
            second = sectors[(h2 >> 46) % len(sectors)][0]
            if second != first:
                chosen = (first, second)
        founded = 1900 + (h2 >> 52) % 116 if kind != "SmallAndMediumEnterprise" else 1950 + (h2 >> 52) % 66
        return _Firm(i, kind, name, root, country, chosen, founded)

    # ---- provenance ---------------------------------------------------------------------------------------------
    def _header(self, w: _Writer) -> None:
        w.block(
            self.source,
            [
                (A, f"<{_BIBO}Document>"),
                (A, f"<{_PROV}Entity>"),
                (LABEL, _lit(f"Synthetic inter-firm cooperation data (kg generate, seed {self.seed})")),
                (f"<{_DCT}title>", _lit(f"Synthetic inter-firm cooperation data, seed {self.seed}")),
                (
                    f"<{_DCT}description>",
                    _lit(
                        "Firms, clusters, networks and agreements made up by `kg generate` for benchmarks and scale "
                        "tests; countries, sectors and the Table 1 taxonomy are those of the repository's data. "
                        "Nothing here describes real firms."
                    ),
                ),
            ],
        )

    def _case(self, w: _Writer, subject: str) -> str:
        """The case that describes `subject`, starting a new one every CASE_SIZE entities."""
        if self._case_members >= CASE_SIZE:
            self.cases += 1
            self._case_members = 0
            case = self.iri("case", self.cases)
            w.block(
                case,
                [
                    (A, f"<{_IFC}Case>"),
                    (LABEL, _lit(f"Synthetic case {self.cases} (seed {self.seed})")),
                    (SOURCE, self.source),
                    (DERIVED, self.source),
                    (
                        f"<{_IFC}summary>",
                        _lit(
                            "A generated case grouping firms, clusters, networks and agreements "
                            "for benchmarking; it documents nothing real."
                        ),
                    ),
                ],
            )
        self._case_members += 1
        case = self.iri("case", self.cases)
        w.block(case, [(f"<{_IFC}describes>", subject)])
        return case

    # ---- entities -----------------------------------------------------------------------------------------------
    def emit_firm(self, w: _Writer) -> None:
        f = self.firm(self.firms)
        s = self.iri("firm", self.firms)
        case = self._case(w, s)
        pairs = [
            (A, f"<{_IFC}{f.kind}>"),
            (LABEL, _lit(f.name)),
            (f"<{_IFC}basedIn>", f"<{f.country.iri}>"),
            *((f"<{_IFC}inSector>", f"<{sector}>") for sector in f.sectors),
            (f"<{_IFC}startYear>", _typed(str(f.founded), "integer")),
            (DERIVED, case),
        ]
        w.block(s, pairs)
        self.by_country[f.country.iri].append(f.index)
        for sector in f.sectors:
            self.by_sector[sector].append(f.index)
        if f.kind == "TransnationalCorporation":
            self.tncs.append(f.index)
        elif f.kind == "SmallAndMediumEnterprise":
            self.smes[f.country.iri].append(f.index)
        self.firms += 1

    def _distinct(self, pool: list[int] | deque[int] | range, n: int, taken: list[int]) -> list[int]:
        """Up to n members of `pool` not in `taken`, picked at random (bounded attempts)."""
        out = list(taken)
        for _ in range(n * 8):
            if len(out) >= len(taken) + n or not pool:
                break
            pick = pool[self.rng.randrange(len(pool))]
            if pick not in out:
                out.append(pick)
        return out[len(taken) :]

    def emit_agreement(self, w: _Writer) -> None:
        rng = self.rng
        entry = rng.choice(self.v.entries)
        if entry.consortium:
            n = rng.randint(3, 5)
        else:
            r = rng.random()
            n = 2 if r < 0.7 else 3 if r < 0.9 else rng.randint(4, 5)
        first = rng.randrange(self.firms)
        partners = [first]
        if rng.random() < 0.35:  # a domestic agreement: partners from the same country
            partners += self._distinct(self.by_country[self.firm(first).country.iri], n - 1, partners)
        partners += self._distinct(range(self.firms), n - len(partners), partners)
        for j in range(self.firms):  # a fallback that never runs in practice: fill up in order
            if len(partners) >= n:
                break
            if j not in partners:
                partners.append(j)
        firms = [self.firm(p) for p in partners]
        self.agreements += 1
        s = self.iri("agreement", self.agreements)
        case = self._case(w, s)
        year = rng.randint(max(FIRST_YEAR, *(f.founded for f in firms)), LAST_YEAR)
        names = [f.short for f in firms]
        if len(names) == 2:
            label = f"{names[0]}-{names[1]} {entry.form_label} ({year})"
        else:
            label = f"{entry.form_label} of {', '.join(names[:-1])} and {names[-1]} ({year})"
        pairs = [
            (A, f"<{_IFC}{'Consortium' if entry.consortium else 'InterFirmAgreement'}>"),
            (LABEL, _lit(label[0].upper() + label[1:])),
            *((f"<{_IFC}hasPartner>", self.iri("firm", p)) for p in partners),
            (f"<{_IFC}hasForm>", f"<{entry.form}>"),
            (f"<{_IFC}direction>", f"<{entry.direction}>"),
            (f"<{_IFC}valueChainStage>", f"<{entry.stage}>"),
            (f"<{_IFC}inSector>", f"<{firms[0].sectors[0]}>"),
            (f"<{_IFC}startYear>", _typed(str(year), "integer")),
            (SOURCE, self.source),
            (DERIVED, case),
        ]
        if entry.consortium:
            pairs.insert(1, (A, f"<{_IFC}InterFirmAgreement>"))
        countries = {f.country.iri for f in firms}
        if len(countries) > 1:
            south = [f.country.south for f in firms]
            if all(south):
                orientation = "SouthSouth"
            elif not any(south):
                orientation = "NorthNorth"
            elif entry.direction.endswith("OneWay"):
                orientation = "NorthSouth"  # the developed-economy partner brings the technology (Box 4)
            else:
                orientation = "NorthSouth" if rng.random() < 0.7 else "SouthNorth"
            pairs.append((f"<{_IFC}orientation>", f"<{_IFC}{orientation}>"))
        shares: list[tuple[str, list[tuple[str, str]]]] = []
        if entry.form.endswith("form-joint-venture") and rng.random() < 0.6:
            holders = firms[: min(len(firms), rng.choice((2, 2, 3)))]
            total = 1000 if rng.random() < 0.8 else rng.randint(600, 999)  # tenths of a percent
            cuts = sorted(rng.sample(range(1, total), len(holders) - 1)) if len(holders) > 1 else []
            tenths = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
            for k, (holder, t) in enumerate(zip(holders, tenths, strict=True), start=1):
                share = f"<{self.base}equity-{self.agreements:06d}-{k}>"
                pairs.append((f"<{_IFC}hasEquityShare>", share))
                shares.append(
                    (
                        share,
                        [
                            (A, f"<{_IFC}EquityShare>"),
                            (LABEL, _lit(f"Equity share of {holder.short} in agreement {self.agreements}")),
                            (f"<{_IFC}holder>", self.iri("firm", holder.index)),
                            (f"<{_IFC}percentage>", _typed(f"{t // 10}.{t % 10}", "decimal")),
                            (DERIVED, case),
                        ],
                    )
                )
        w.block(s, pairs)
        for share, share_pairs in shares:
            w.block(share, share_pairs)

    def emit_cluster(self, w: _Writer) -> bool:
        rng = self.rng
        anchor = self.firm(rng.randrange(self.firms))
        pool = self.by_country[anchor.country.iri]
        if len(pool) < 3:
            return False
        members = self._distinct(pool, rng.randint(3, min(25, len(pool))), [])
        sector = self.firm(members[0]).sectors[0]
        sector_label = dict(self.v.sectors)[sector]
        kind = _weighted(_CLUSTER_KINDS, rng.random())
        self.clusters += 1
        s = self.iri("cluster", self.clusters)
        case = self._case(w, s)
        label = f"{sector_label.capitalize()} cluster {self.clusters} in {anchor.country.label}"
        w.block(
            s,
            [
                (A, f"<{_IFC}{kind}>"),
                (LABEL, _lit(label)),
                (f"<{_IFC}locatedIn>", f"<{anchor.country.iri}>"),
                (f"<{_IFC}inSector>", f"<{sector}>"),
                (f"<{_IFC}pattern>", f"<{_IFC}Clustering>"),
                *((f"<{_IFC}hasMember>", self.iri("firm", m)) for m in members),
                (DERIVED, case),
            ],
        )
        return True

    def emit_network(self, w: _Writer) -> bool:
        rng = self.rng
        kind = _weighted(_NETWORK_KINDS, rng.random())
        anchor = self.firm(rng.randrange(self.firms))
        place = None
        if kind == "HorizontalNetwork":
            members = self._distinct(self.by_sector[anchor.sectors[0]], rng.randint(3, 12), [])
        elif kind == "LocalSMESystem":
            members = self._distinct(self.smes[anchor.country.iri], rng.randint(3, 15), [])
            place = anchor.country
        elif kind == "InternationalProductionNetwork":
            hub = self._distinct(self.tncs, 1, [])
            members = hub + self._distinct(range(self.firms), rng.randint(3, 10), hub)
        else:
            members = self._distinct(range(self.firms), rng.randint(3, 10), [])
        if len(members) < 3:
            return False
        sector = self.firm(members[0]).sectors[0]
        words = {
            "HorizontalNetwork": "horizontal network",
            "VerticalNetwork": "vertical network",
            "InternationalProductionNetwork": "international production network",
            "KnowledgeNetwork": "knowledge network",
            "LocalSMESystem": "local SME system",
        }[kind]
        self.networks += 1
        s = self.iri("network", self.networks)
        case = self._case(w, s)
        where = f" in {place.label}" if place else ""
        pairs = [
            (A, f"<{_IFC}{kind}>"),
            (LABEL, _lit(f"{self.firm(members[0]).short} {words} {self.networks}{where}")),
            (f"<{_IFC}inSector>", f"<{sector}>"),
            (f"<{_IFC}pattern>", f"<{_IFC}Networking>"),
            *((f"<{_IFC}hasMember>", self.iri("firm", m)) for m in members),
            (DERIVED, case),
        ]
        if place is not None:
            pairs.insert(2, (f"<{_IFC}locatedIn>", f"<{place.iri}>"))
        w.block(s, pairs)
        return True

    def run(self, w: _Writer, progress: Callable[[int], None] | None = None) -> int:
        """Write entities until the target is reached; returns the number of triples written."""
        self._header(w)
        reported = 0
        while w.count < self.target:
            r = self.rng.random()
            if self.firms < 12 or r < 0.40:
                self.emit_firm(w)
            elif r < 0.93:
                self.emit_agreement(w)
            elif r < 0.97:
                self.emit_cluster(w)
            else:
                self.emit_network(w)
            if progress is not None and w.count - reported >= 20_000:
                progress(w.count - reported)
                reported = w.count
        if progress is not None and w.count > reported:
            progress(w.count - reported)
        return w.count


@dataclass(frozen=True)
class Summary:
    """What a run wrote."""

    triples: int
    firms: int
    agreements: int
    clusters: int
    networks: int
    cases: int


def generate(
    output: Path,
    triples: int,
    seed: int,
    vocabulary: Vocabulary,
    *,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Write at least `triples` triples to `output` (Turtle when it ends in .ttl, else N-Triples)."""
    if triples < 1:
        raise InputError("the number of triples must be positive")
    suffix = output.suffix.lower()
    if suffix not in (".nt", ".ttl"):
        raise InputError(
            f"unsupported output format {suffix or '(none)'!r}",
            source=str(output),
            hint="name the file .nt (N-Triples, recommended for large outputs) or .ttl (Turtle)",
        )
    gen = Generator(vocabulary, seed, triples)
    prefixes = {k: PREFIXES[k] for k in ("bibo", "dcterms", "ifc", "ifd", "prov", "rdf", "rdfs", "xsd")}
    prefixes["syn"] = gen.base
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".partial")
    with open(tmp, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as fh:
        writer = _Writer(fh, suffix == ".ttl", prefixes)
        count = gen.run(writer, progress)
    tmp.replace(output)
    return Summary(count, gen.firms, gen.agreements, gen.clusters, gen.networks, gen.cases)
