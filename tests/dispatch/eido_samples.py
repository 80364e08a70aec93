"""EIDO documents for tests, shaped like NENA-STA-021 examples."""

from __future__ import annotations

from typing import Any

PIDF_POINT = """<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"
  xmlns:gml="http://www.opengis.net/gml" xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
  entity="pres:caller@example.org">
 <tuple id="loc1"><status><gp:geopriv><gp:location-info>
   <gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>{lat} {lon}</gml:pos></gml:Point>
   <ca:civicAddress><ca:HNO>505</ca:HNO><ca:PRD>W</ca:PRD><ca:RD>Felix</ca:RD><ca:STS>St</ca:STS>
     <ca:A3>Fort Worth</ca:A3><ca:A1>TX</ca:A1></ca:civicAddress>
 </gp:location-info></gp:geopriv></status></tuple>
</presence>"""

PIDF_CIRCLE = """<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"
  xmlns:gml="http://www.opengis.net/gml" xmlns:gs="http://www.opengis.net/pidflo/1.0" entity="pres:x@y">
 <tuple id="t"><status><gp:geopriv><gp:location-info>
  <gs:Circle srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>{lat} {lon}</gml:pos>
   <gs:radius uom="urn:ogc:def:uom:EPSG::9001">{radius}</gs:radius></gs:Circle>
 </gp:location-info></gp:geopriv></status></tuple>
</presence>"""


def eido(
    *,
    tracking_id: str = "FWPD-2026-000123",
    priority: int = 9,
    lat: float = 32.7555,
    lon: float = -97.3308,
    circle_radius_m: float | None = None,
    status: str = "Open",
) -> dict[str, Any]:
    pidf = (
        PIDF_POINT.format(lat=lat, lon=lon)
        if circle_radius_m is None
        else PIDF_CIRCLE.format(lat=lat, lon=lon, radius=circle_radius_m)
    )
    return {
        "$schema": "https://raw.githubusercontent.com/NENA911/EIDO-JSON/main/Schema/EIDO.schema.json",
        "$id": "urn:nena:uid:eido:abc123",
        "lastUpdateTimeStamp": "2026-11-26T13:00:00Z",
        "incidentComponent": {
            "$id": "urn:nena:uid:incident:1",
            "incidentTrackingIdentifier": tracking_id,
            "lastUpdateTimeStamp": "2026-11-26T13:00:00-06:00",
            "incidentTypeCommonRegistryText": ["Law-Shooting"],
            "incidentCommonPriorityNumber": priority,
            "incidentStatusCommonRegistryText": [status],
            "locationReference": {"$ref": "urn:nena:uid:location:1"},
        },
        "locationComponent": [
            {"$id": "urn:nena:uid:location:0", "locationByValue": PIDF_POINT.format(lat=0, lon=0)},
            {"$id": "urn:nena:uid:location:1", "locationByValue": pidf},
        ],
        "notesComponent": [
            {"$id": "n1", "notesActionCommentText": "caller reports shots behind the store"},
        ],
    }
