# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The shipped protocol files: the OpenAPI document and the WSDL say what the code does."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
from decimal import Decimal
from importlib import resources

import pytest
import yaml
import zeep
from lxml import etree
from zeep.plugins import HistoryPlugin

from nordic_billing.collection import (
    AgencyConflict,
    AgencyNotFound,
    AgencyValidationError,
    CaseUpdate,
    Claim,
    Debtor,
    RestAgencyAdapter,
    SettlementLine,
    SoapAgencyAdapter,
)
from nordic_billing.collection.soap import BINDING, wsdl_path
from nordic_billing.sandbox.agency import DEFAULT_API_KEY, start_in_thread

DATA = resources.files("nordic_billing").joinpath("data")
XSD = "{http://www.w3.org/2001/XMLSchema}"
SOAP_NS = "urn:nordic-billing:collection-agency:1"


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(DATA.joinpath("agency-openapi.yaml").read_text("utf-8"))


@pytest.fixture(scope="module")
def sandbox():
    handle = start_in_thread()
    yield handle
    handle.stop()


def fields_of(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def debtor() -> Debtor:
    return Debtor("person", "Kari Nordmann", "01017012345", ("Storgata 1",), "0155", "Oslo", "NO")


def claim(key: str) -> Claim:
    return Claim(
        key,
        key,
        dt.date(2026, 1, 2),
        dt.date(2026, 1, 16),
        Decimal("500"),
        Decimal("500"),
        "NOK",
        "0000010010018",
        Decimal("35"),
    )


def exercise(adapter, sandbox) -> None:
    """Every operation, and the error answers the clients meet."""
    adapter.ping()
    case = adapter.create_case(debtor(), claim("9/A-1"))
    adapter.create_case(debtor(), claim("9/A-1"))
    adapter.add_payment(case.case_number, Decimal("100"), dt.date(2026, 3, 1), "P-1")
    adapter.add_payment(case.case_number, Decimal("100"), dt.date(2026, 3, 1), "P-1")
    with pytest.raises(AgencyConflict):
        adapter.add_payment(case.case_number, Decimal("101"), dt.date(2026, 3, 1), "P-1")
    with pytest.raises(AgencyNotFound):
        adapter.cancel_case("C999999", "credit note")
    with pytest.raises(AgencyValidationError):
        adapter.create_case(
            debtor(), dataclasses.replace(claim("9/A-2"), due_date=dt.date(2025, 1, 1))
        )
    sandbox.state.advance(case.case_number, principal="300", interest="3.20", other="-50")
    adapter.list_updates(dt.datetime(2026, 1, 1))
    adapter.list_settlements()
    adapter.cancel_case(case.case_number, "credit note")
    sandbox.faults.fail_next(1, status=503, operation="list_updates")
    adapter.list_updates()


# --------------------------------------------------------------------------- OpenAPI


def test_openapi_document_is_openapi_3_0(spec):
    assert spec["openapi"].startswith("3.0.")
    assert spec["info"]["title"] and spec["info"]["version"]
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)) == 8
    schemes = spec["components"]["securitySchemes"]
    assert {name for entry in spec["security"] for name in entry} == set(schemes)
    assert schemes["apiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    for item in spec["paths"].values():
        for operation in item.values():
            assert operation["responses"], operation["operationId"]
            assert all(re.fullmatch(r"[1-5]\d\d", status) for status in operation["responses"])


def test_every_reference_resolves(spec):
    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    refs = set(walk(spec))
    assert refs
    for ref in refs:
        _hash, section, kind, name = ref.split("/")
        assert spec[section][kind][name], ref


def test_openapi_schemas_name_the_record_fields(spec):
    schemas = spec["components"]["schemas"]
    assert set(schemas["Debtor"]["properties"]) == fields_of(Debtor)
    assert set(schemas["Claim"]["properties"]) == fields_of(Claim)
    assert set(schemas["Case"]["properties"]) == fields_of(CaseUpdate)
    assert set(schemas["SettlementLine"]["properties"]) == fields_of(SettlementLine)
    assert schemas["CaseStatus"]["enum"] == ["open", "paid", "closed", "returned"]
    amount = re.compile(schemas["Amount"]["pattern"])
    assert all(amount.match(x) for x in ("0.00", "-3.50", "125", "1234567890123.45"))
    assert not any(amount.match(x) for x in ("1.234", "1e3", "", "12,50"))


def contract_for(spec):
    """The project's OpenAPI validator, fed this document with its shared parameters and
    responses inlined; ``pattern`` is left to the sandbox, which enforces it in code."""
    openapi = pytest.importorskip("nordic_billing.openapi")
    doc = copy.deepcopy(spec)

    def inline(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith(("#/components/parameters/", "#/components/responses/")):
                _hash, _c, kind, name = ref.split("/")
                return inline(copy.deepcopy(spec["components"][kind][name]))
            return {k: inline(v) for k, v in node.items() if k != "pattern"}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    doc["paths"] = inline(doc["paths"])
    doc["components"]["schemas"] = inline(doc["components"]["schemas"])
    return openapi.Contract(doc)


def test_rest_traffic_matches_the_openapi_document(spec, sandbox):
    contract = contract_for(spec)
    sandbox.state.reset()
    adapter = RestAgencyAdapter(sandbox.url, api_key=DEFAULT_API_KEY, timeout=2, backoff=0.01)
    exercise(adapter, sandbox)
    wrong_key = RestAgencyAdapter(sandbox.url, api_key="wrong", timeout=2)
    with pytest.raises(Exception, match="credentials"):
        wrong_key.ping()

    exchanges = sandbox.state.exchanges
    seen = set()
    for exchange in exchanges:
        found = contract.find_operation(exchange["method"], exchange["path"])
        assert found, exchange
        operation, _params = found
        seen.add((operation.operation_id, exchange["status"]))
        where = f"{operation.operation_id} {exchange['status']}"
        if exchange["request"] is not None:
            body_schema = operation.body_media_types["application/json"]
            assert contract.validate(exchange["request"], body_schema) == [], where
        for name in exchange["query"]:
            assert operation.parameter(name), f"{where}: query {name}"
        assert exchange["status"] in operation.responses, where
        violations = contract.check_response(
            operation, exchange["status"], "application/json", exchange["response"]
        )
        assert violations == [], f"{where}: {violations}"
    assert {
        ("ping", 200),
        ("findCase", 200),
        ("createCase", 201),
        ("createCase", 422),
        ("addPayment", 201),
        ("addPayment", 200),
        ("addPayment", 409),
        ("cancelCase", 200),
        ("cancelCase", 404),
        ("listUpdates", 200),
        ("listUpdates", 503),
        ("listSettlements", 200),
    } <= seen


# --------------------------------------------------------------------------- WSDL


def schema_types() -> dict[str, list[str]]:
    wsdl = etree.parse(wsdl_path())
    return {
        node.get("name"): [e.get("name") for e in node.iter(f"{XSD}element")]
        for node in wsdl.iter(f"{XSD}complexType")
        if node.get("name")
    }


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_wsdl_loads_in_zeep_with_every_operation():
    client = zeep.Client(wsdl_path())
    binding = client.wsdl.bindings[BINDING]

    assert set(binding._operations) == {
        "Ping",
        "CreateCase",
        "FindCase",
        "AddPayment",
        "CancelCase",
        "ListUpdates",
        "ListSettlements",
    }
    [service] = client.wsdl.services.values()
    assert service.name == "AgencyService"


def test_wsdl_types_name_the_record_fields():
    types = schema_types()
    debtor_fields = {snake(x) for x in types["Debtor"]} - {"address_line"} | {"address_lines"}
    assert debtor_fields == fields_of(Debtor)
    assert {snake(x) for x in types["Claim"]} == fields_of(Claim)
    assert {snake(x) for x in types["Case"]} == fields_of(CaseUpdate)
    assert {snake(x) for x in types["SettlementLine"]} == fields_of(SettlementLine)


def test_soap_traffic_matches_the_wsdl_schema(sandbox):
    sandbox.state.reset()
    sandbox.faults.reset()
    schema_node = etree.parse(wsdl_path()).find(f".//{XSD}schema")
    schema = etree.XMLSchema(etree.ElementTree(schema_node))
    history = HistoryPlugin(maxlen=200)
    adapter = SoapAgencyAdapter(sandbox.url, api_key=DEFAULT_API_KEY, timeout=2, backoff=0.01)
    adapter.client.plugins.append(history)

    exercise(adapter, sandbox)

    checked = set()
    for entry in history._buffer:
        for direction in ("sent", "received"):
            envelope = (entry[direction] or {}).get("envelope")
            if envelope is None:  # a 503 without a SOAP body
                continue
            body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
            if body.tag.endswith("Fault"):
                detail = body.find("detail")
                assert detail is not None and schema.validate(copy.deepcopy(detail[0]))
                continue
            assert schema.validate(copy.deepcopy(body)), schema.error_log.last_error
            checked.add(etree.QName(body).localname)
    assert {"CreateCaseResponse", "ListSettlementsResponse", "AddPaymentResponse"} <= checked
    assert etree.QName(SOAP_NS, "x").namespace == SOAP_NS
