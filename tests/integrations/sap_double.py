"""An SAP Gateway double: serves OData V2 ($metadata, CostCenters, ActivityAllocations) over HTTP.

It keeps its own state (cost centres, posted documents), asks for a CSRF token on every
write as Gateway does, and refuses a document naming a cost centre it does not know.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

NS = "ZRFR_CO_SRV"
METADATA = f"""<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx"
  xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" xmlns:sap="http://www.sap.com/Protocols/SAPData">
 <edmx:DataServices m:DataServiceVersion="2.0">
  <Schema Namespace="{NS}" xml:lang="en" sap:schema-version="1" xmlns="http://schemas.microsoft.com/ado/2008/09/edm">
   <EntityType Name="CostCenter">
    <Key><PropertyRef Name="ControllingArea"/><PropertyRef Name="CostCenter"/></Key>
    <Property Name="ControllingArea" Type="Edm.String" Nullable="false" MaxLength="4"/>
    <Property Name="CostCenter" Type="Edm.String" Nullable="false" MaxLength="10"/>
    <Property Name="CostCenterName" Type="Edm.String" MaxLength="40"/>
    <Property Name="ValidFrom" Type="Edm.DateTime" Precision="0"/>
    <Property Name="ValidTo" Type="Edm.DateTime" Precision="0"/>
   </EntityType>
   <EntityType Name="ActivityAllocation">
    <Key><PropertyRef Name="DocumentNumber"/></Key>
    <Property Name="DocumentNumber" Type="Edm.String" Nullable="false" MaxLength="10"/>
    <Property Name="ControllingArea" Type="Edm.String" MaxLength="4"/>
    <Property Name="DocumentDate" Type="Edm.DateTime" Precision="0"/>
    <Property Name="PostingDate" Type="Edm.DateTime" Precision="0"/>
    <Property Name="HeaderText" Type="Edm.String" MaxLength="50"/>
    <NavigationProperty Name="Items" Relationship="{NS}.AllocationItems"
      FromRole="FromRole_AllocationItems" ToRole="ToRole_AllocationItems"/>
   </EntityType>
   <EntityType Name="AllocationItem">
    <Key><PropertyRef Name="Reference"/></Key>
    <Property Name="Reference" Type="Edm.String" Nullable="false" MaxLength="20"/>
    <Property Name="SenderCostCenter" Type="Edm.String" MaxLength="10"/>
    <Property Name="ActivityType" Type="Edm.String" MaxLength="6"/>
    <Property Name="Quantity" Type="Edm.Decimal" Precision="15" Scale="3"/>
    <Property Name="Unit" Type="Edm.String" MaxLength="3"/>
    <Property Name="ReceiverCostCenter" Type="Edm.String" MaxLength="10"/>
    <Property Name="Text" Type="Edm.String" MaxLength="50"/>
   </EntityType>
   <Association Name="AllocationItems">
    <End Type="{NS}.ActivityAllocation" Multiplicity="1" Role="FromRole_AllocationItems"/>
    <End Type="{NS}.AllocationItem" Multiplicity="*" Role="ToRole_AllocationItems"/>
   </Association>
   <EntityContainer Name="{NS}_Entities" m:IsDefaultEntityContainer="true">
    <EntitySet Name="CostCenters" EntityType="{NS}.CostCenter"/>
    <EntitySet Name="ActivityAllocations" EntityType="{NS}.ActivityAllocation"/>
    <EntitySet Name="AllocationItems" EntityType="{NS}.AllocationItem"/>
    <AssociationSet Name="AllocationItemsSet" Association="{NS}.AllocationItems">
     <End EntitySet="ActivityAllocations" Role="FromRole_AllocationItems"/>
     <End EntitySet="AllocationItems" Role="ToRole_AllocationItems"/>
    </AssociationSet>
   </EntityContainer>
  </Schema>
 </edmx:DataServices>
</edmx:Edmx>
"""
TOKEN = "double-csrf-4711"


def odata_date(day: date | None):
    if day is None:
        return None
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return f"/Date({int(moment.timestamp() * 1000)})/"


class Gateway:
    """The double's state: cost centres by controlling area, documents posted."""

    def __init__(self):
        self.cost_centres: list[dict] = []
        self.documents: list[dict] = []
        # Take the next document but answer 500, as when the connection drops after SAP posted.
        self.lose_next_answer = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}/sap/opu/odata/sap/{NS}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, data: dict):
                self._send(status, json.dumps(data).encode(), "application/json")

            def _path(self) -> tuple[str, dict]:
                parts = urlsplit(self.path)
                prefix = urlsplit(gateway.url).path
                return unquote(parts.path)[len(prefix) :], parse_qs(parts.query)

            def do_GET(self):
                path, query = self._path()
                if path == "" and self.headers.get("X-CSRF-Token") == "Fetch":
                    return self._send(200, b"", "text/plain", {"X-CSRF-Token": TOKEN})
                if path == "$metadata":
                    return self._send(200, METADATA.encode(), "application/xml")
                if path == "CostCenters":
                    wanted = re.fullmatch(r"ControllingArea eq '(\w+)'", (query.get("$filter") or [""])[0])
                    rows = [
                        c
                        for c in gateway.cost_centres
                        if not wanted or c["ControllingArea"] == wanted.group(1)
                    ]
                    results = [
                        {**c, "ValidFrom": odata_date(c["ValidFrom"]), "ValidTo": odata_date(c["ValidTo"])}
                        for c in rows
                    ]
                    return self._json(200, {"d": {"results": results}})
                if path == "ActivityAllocations":
                    wanted = dict(re.findall(r"(\w+) eq '((?:[^']|'')*)'", (query.get("$filter") or [""])[0]))
                    results = [
                        {k: v for k, v in d.items() if k != "Items"}
                        for d in gateway.documents
                        if all(d.get(k) == v.replace("''", "'") for k, v in wanted.items())
                    ]
                    return self._json(200, {"d": {"results": results}})
                return self._json(
                    404, {"error": {"code": "/IWBEP/CM_MGW_RT/020", "message": {"value": "not found"}}}
                )

            def do_POST(self):
                path, _query = self._path()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.headers.get("X-CSRF-Token") != TOKEN:
                    return self._send(
                        403, b"CSRF token validation failed", "text/plain", {"X-CSRF-Token": "Required"}
                    )
                if path != "ActivityAllocations":
                    return self._json(404, {"error": {"message": {"value": "not found"}}})
                known = {c["CostCenter"] for c in gateway.cost_centres}
                items = body.get("Items", [])
                items = items.get("results", items) if isinstance(items, dict) else items
                unknown = [i["ReceiverCostCenter"] for i in items if i["ReceiverCostCenter"] not in known]
                if unknown:
                    message = f"Cost center {unknown[0]} does not exist"
                    return self._json(400, {"error": {"code": "KI/102", "message": {"value": message}}})
                number = f"49{len(gateway.documents) + 1:08d}"
                gateway.documents.append({**body, "Items": items, "DocumentNumber": number})
                if gateway.lose_next_answer:
                    gateway.lose_next_answer = False
                    return self._json(500, {"error": {"message": {"value": "connection reset"}}})
                answer = {k: v for k, v in body.items() if k != "Items"} | {"DocumentNumber": number}
                return self._json(201, {"d": answer})

        return Handler
