"""The studio's OpenAPI description, written by hand so it says what the API promises, in words."""

from __future__ import annotations

from typing import Any

_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
_ISSUE = {"type": "object", "properties": {
    "line": {"type": ["integer", "null"]}, "column": {"type": ["integer", "null"]},
    "path": {"type": "string"}, "message": {"type": "string"}}}
_SPEC_ERROR = {"type": "object", "properties": {"error": {"type": "string"},
                                                "issues": {"type": "array", "items": {"$ref": "#/components/schemas/Issue"}}}}
_CONTROLS = {"type": "object", "properties": {
    "name": {"type": "string"},
    "parameters": {"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string"}, "min": {"type": "number"}, "max": {"type": "number"}, "default": {"type": "number"}}}},
    "states": {"type": "array", "items": {"type": "string"}},
    "initial_state": {"type": ["string", "null"]},
    "stingers": {"type": "array", "items": {"type": "string"}},
    "layers": {"type": "array", "items": {"type": "string"}}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document served at ``/openapi.json``."""
    err = _json(_ref("Error"), "refused; `error` says why")
    not_found = _json(_ref("Error"), "no such session (it may have ended)")
    session_path = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Segue studio", "version": "1",
                 "description": "Live adaptive-music sessions for the studio page and for engines. Each session "
                                "is one engine; its WebSocket (/api/sessions/{id}/ws, described in docs/studio.md) "
                                "carries controls in and events, status, upcoming notes and audio out. The session "
                                "ends when its last socket closes. Off loopback every request needs the token "
                                "(?token=, Authorization: Bearer, or the cookie set by opening the page with ?token=)."},
        "components": {
            "schemas": {"Error": _ERROR, "Issue": _ISSUE, "SpecError": _SPEC_ERROR, "Controls": _CONTROLS,
                        "Status": {"type": "object", "description": "LiveSession.status() plus id, name, generation, "
                                   "reloads, sockets, frames_sent, sustained_frames"}},
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{}, {"token": []}],
        "paths": {
            "/api/examples": {"get": {"summary": "The named specs (examples, the served spec, the default)",
                                      "responses": {"200": _json({"type": "object"}, "names, titles, descriptions")}}},
            "/api/examples/{name}": {"get": {
                "summary": "One named spec's YAML text",
                "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json({"type": "object"}, "name, title, text"), "404": err}}},
            "/api/validate": {"post": {
                "summary": "Validate spec text: every problem with its line and column",
                "requestBody": _json({"type": "object", "properties": {"text": {"type": "string"}},
                                      "required": ["text"]}, "spec YAML (at most 256 KiB)"),
                "responses": {"200": _json({"type": "object", "properties": {
                    "ok": {"type": "boolean"}, "issues": {"type": "array", "items": _ref("Issue")},
                    "controls": _ref("Controls")}}, "ok, or the issues"), "400": err, "413": err}}},
            "/api/sessions": {
                "get": {"summary": "Running sessions", "responses": {"200": _json({"type": "object"}, "statuses")}},
                "post": {"summary": "Start a session from an example name or spec text",
                         "requestBody": _json({"type": "object", "properties": {
                             "example": {"type": "string"}, "text": {"type": "string"},
                             "name": {"type": "string"}, "seed": {"type": "integer", "minimum": 0}}},
                             "exactly one of example/text"),
                         "responses": {"201": _json({"type": "object", "properties": {
                             "id": {"type": "string"}, "ws": {"type": "string"}, "controls": _ref("Controls"),
                             "status": _ref("Status")}}, "the session (connect to `ws` within 60 s)"),
                             "400": err, "404": err, "413": err, "422": _json(_ref("SpecError"), "spec issues"),
                             "503": err}}},
            "/api/sessions/{id}": {
                "parameters": session_path,
                "get": {"summary": "Session status", "responses": {"200": _json(_ref("Status"), "now playing"),
                                                                   "404": not_found}},
                "delete": {"summary": "End the session (its sockets close with 1001)",
                           "responses": {"204": {"description": "ended"}, "404": not_found}}},
            "/api/sessions/{id}/spec": {
                "parameters": session_path,
                "get": {"summary": "The session's spec text", "responses": {"200": _json({"type": "object"}, "text"),
                                                                            "404": not_found}},
                "put": {"summary": "Hot reload: restart the session's engine on new spec text, keeping state and "
                                   "parameter values that still exist; the audio does not stop",
                        "requestBody": _json({"type": "object", "properties": {"text": {"type": "string"}}},
                                             "spec YAML"),
                        "responses": {"200": _json({"type": "object"}, "new generation and controls"),
                                      "404": not_found, "422": _json(_ref("SpecError"),
                                                                     "spec issues; the session plays on unchanged")}}},
            "/api/sessions/{id}/controls": {
                "parameters": session_path,
                "post": {"summary": "Send one control (the JSON of docs/protocol.md)",
                         "requestBody": _json({"type": "object"}, "e.g. {\"type\":\"param\",\"name\":\"intensity\","
                                                                  "\"value\":0.8}"),
                         "responses": {"200": _json({"type": "object"}, "ack"), "422": err, "404": not_found}}},
            "/api/files": {"get": {"summary": "Files in the upload folder",
                                   "responses": {"200": _json({"type": "object"}, "names")}}},
            "/api/files/{name}": {"put": {
                "summary": "Upload a file (theme MIDI …) into the upload folder; specs typed in the page name it "
                           "without folders",
                "parameters": [{"name": "name", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"}}],
                "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                   "format": "binary"}}}},
                "responses": {"201": _json({"type": "object"}, "stored"), "400": err, "413": err}}},
        },
    }
