"""A corpus of malformed JSON and YAML bodies for PUT /v1/config, POST /v1/services and
PUT /v1/routes/x: truncated documents, wrong types, huge and negative numbers, deep nesting,
invalid UTF-8, duplicate keys, trailing garbage, empty bodies, arrays for objects.

Each body is answered 400 with the error envelope (docs/admin-api.md: parse errors and types
are 400), the store is unchanged (revision and GET /v1/config identical) and the proxy still
serves. One turnout serves the whole module; a case that kills it fails, and the next case
starts it again on the same store."""
import copy
import json
import re

import pytest

from harness import (
    AdminTurnout,
    Backend,
    RawClient,
    api_error,
    describe,
    endpoint,
    model_document,
    route,
    service,
    to_yaml,
)

DEAD1, DEAD2 = "127.0.0.1:1", "127.0.0.1:2"

# Valid documents (test_valid_documents_are_accepted checks it): the corpus damages them.
SERVICE = {"name": "fresh", "lb": "round_robin",
           "endpoints": [{"address": DEAD1, "version": "v1", "weight": 1},
                         {"address": DEAD2, "version": "v2", "weight": 3}]}
ROUTE = {"id": "x", "priority": 5,
         "match": {"host": "*.example.com", "path_prefix": "/x/", "headers": {"X-User": "^qa-"}},
         "rewrite": {"strip_prefix": True},
         "split": [{"service": "s", "version": "v1", "weight": 90},
                   {"service": "s", "version": "v2", "weight": 10}],
         "timeout_ms": 3000}
CONFIG = {"services": [dict(SERVICE, name="s")], "routes": [ROUTE]}

TARGETS = {
    "config": ("PUT", "/v1/config", CONFIG),
    "service": ("POST", "/v1/services", SERVICE),
    "route": ("PUT", "/v1/routes/x", ROUTE),
}
JSON_CT, YAML_CT = "application/json", "application/yaml"
NUM = "__NUM__"


def _seed(b1, b2):
    return {"services": [service("s", endpoint(b1, "v1"), endpoint(b2, "v2"))],
            "routes": [route("base", "s")]}


# --------------------------------------------------------------------------------------------
# corpus construction
# --------------------------------------------------------------------------------------------
def _set(doc, path, value):
    """path: list of keys/indexes inside a copy of doc."""
    d = copy.deepcopy(doc)
    cur = d
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return d


def _prefix(target):
    """Field paths of the target's document: config paths are under services[0]/routes[0]."""
    return {"config": {"svc": ["services", 0], "rt": ["routes", 0]},
            "service": {"svc": [], "rt": None},
            "route": {"svc": None, "rt": []}}[target]


# A YAML plain scalar like 5 is accepted where a string is expected (YAML has no reliable
# scalar typing across loaders), so number-for-string cases are JSON-only.
SVC_WRONG = [  # (path inside a service, wrong value)
    (["name"], None), (["name"], ["s"]), (["lb"], 7), (["lb"], {"x": 1}),
    (["endpoints"], "127.0.0.1:1"), (["endpoints"], {"address": DEAD1}), (["endpoints", 0], DEAD1),
    (["endpoints", 0], None), (["endpoints", 0, "address"], 123), (["endpoints", 0, "address"], []),
    (["endpoints", 0, "weight"], "heavy"), (["endpoints", 0, "weight"], [1]),
    (["endpoints", 0, "weight"], {"n": 1}), (["endpoints", 0, "version"], ["v1"]),
]
SVC_WRONG_JSON_ONLY = [(["name"], 5), (["endpoints", 0, "weight"], "1"),
                       (["endpoints", 0, "weight"], True), (["endpoints", 0, "version"], 2)]
RT_WRONG = [
    (["priority"], "high"), (["priority"], [1]), (["match"], "/x/"), (["match"], ["/"]),
    (["match", "path_prefix"], 5), (["match", "headers"], ["X-User"]),
    (["match", "headers", "X-User"], {"re": 1}), (["split"], "s"), (["split"], {"service": "s"}),
    (["split", 0], None), (["split", 0], "s"), (["split", 0, "service"], 5),
    (["split", 0, "weight"], [90]), (["timeout_ms"], "soon"), (["timeout_ms"], {}),
    (["rewrite"], "strip"), (["rewrite", "strip_prefix"], [True]),
]
RT_WRONG_JSON_ONLY = [(["id"], 5), (["priority"], "5"), (["rewrite", "strip_prefix"], "yes"),
                      (["timeout_ms"], "3000")]
CONFIG_WRONG = [(["services"], "s"), (["services"], {"name": "s"}), (["routes"], {}),
                (["routes"], "x"), (["listeners"], 5), (["listeners"], {"a": 1}),
                (["services", 0], "s"), (["routes", 0], 7)]

SVC_NUMS = [(["endpoints", 0, "weight"], n) for n in
            ("1e400", "-1e400", "99999999999999999999", "4294967296", "-1", "-5", "1e10",
             "18446744073709551616")]
RT_NUMS = ([(["split", 0, "weight"], n) for n in ("1e400", "99999999999999999999", "-1",
                                                     "4294967296", "-90")] +
           [(["priority"], n) for n in ("99999999999999999999", "2147483648", "-2147483649",
                                         "1e400")] +
           [(["timeout_ms"], n) for n in ("1e400", "99999999999999999999", "-1", "-3000")])
YAML_NUMS_EXTRA = [".inf", "-.inf", ".nan"]


def _paths_for(target, kind):
    """(path, value) pairs of wrong types or numbers that apply to the target's document."""
    pre = _prefix(target)
    out = []
    svc_wrong, rt_wrong = (SVC_WRONG, RT_WRONG) if kind == "yaml-types" else (
        (SVC_WRONG + SVC_WRONG_JSON_ONLY, RT_WRONG + RT_WRONG_JSON_ONLY)
        if kind == "json-types" else (SVC_NUMS, RT_NUMS))
    if pre["svc"] is not None:
        out += [(pre["svc"] + p, v) for p, v in svc_wrong]
    if pre["rt"] is not None:
        out += [(pre["rt"] + p, v) for p, v in rt_wrong]
    if target == "config" and kind in ("json-types", "yaml-types"):
        out += CONFIG_WRONG
    return out


def _dumps_dup(obj, dup_path, key, value, here=()):
    """JSON text of obj in which the object at dup_path has `key` twice (value first, then
    the original member)."""
    if isinstance(obj, dict):
        items = []
        if list(here) == list(dup_path):
            items.append(json.dumps(key) + ":" + json.dumps(value))
        for k, v in obj.items():
            items.append(json.dumps(k) + ":" + _dumps_dup(v, dup_path, key, value, here + (k,)))
        return "{" + ",".join(items) + "}"
    if isinstance(obj, list):
        return "[" + ",".join(_dumps_dup(v, dup_path, key, value, here + (i,))
                              for i, v in enumerate(obj)) + "]"
    return json.dumps(obj)


def _flow_yaml(obj):
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k}: {_flow_yaml(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list):
        return "[" + ", ".join(_flow_yaml(v) for v in obj) + "]"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, int):
        return str(obj)
    return json.dumps(obj)


def _spread(n_total, n_pick):
    """n_pick positions spread over 1..n_total-1 (always including both ends)."""
    if n_total <= 1:
        return []
    pick = {1, n_total - 1}
    step = max(1, (n_total - 1) // n_pick)
    pick.update(range(1, n_total, step))
    return sorted(pick)


def _string_key_for(target):
    """(path, leading bytes) of a string field to damage with invalid UTF-8: one whose value
    nothing else refers to, so that damaging it breaks nothing but the encoding."""
    return {"config": (["routes", 0, "match", "path_prefix"], b"/"),
            "service": (["endpoints", 0, "version"], b"v"),
            "route": (["match", "path_prefix"], b"/")}[target]


def _json_cases(target, doc):
    cases = []
    text = json.dumps(doc, separators=(",", ":"))
    pretty = json.dumps(doc, indent=2)
    # truncated (every strict prefix of an object is invalid JSON)
    for n in _spread(len(text), 40):
        cases.append((f"truncated-{n}", text[:n].encode()))
    for n in _spread(len(pretty), 10):
        if pretty[:n].strip():
            cases.append((f"truncated-pretty-{n}", pretty[:n].encode()))
    # wrong types
    for i, (path, value) in enumerate(_paths_for(target, "json-types")):
        cases.append((f"type-{i}-{'.'.join(map(str, path))}", json.dumps(_set(doc, path, value)).encode()))
    # huge and negative numbers (raw text: Python cannot emit 1e400)
    for i, (path, raw) in enumerate(_paths_for(target, "numbers")):
        body = json.dumps(_set(doc, path, NUM)).replace(json.dumps(NUM), raw)
        cases.append((f"number-{i}-{'.'.join(map(str, path))}={raw}", body.encode()))
    for raw in ("NaN", "Infinity", "-Infinity", "0x10", "01", "1.", ".5", "+1"):
        path = (_prefix(target)["svc"] or []) + ["endpoints", 0, "weight"] \
            if _prefix(target)["svc"] is not None else ["split", 0, "weight"]
        body = json.dumps(_set(doc, path, NUM)).replace(json.dumps(NUM), raw)
        cases.append((f"number-literal-{raw}", body.encode()))
    # deep nesting
    depth = 10000
    key = "endpoints" if target == "service" else ("split" if target == "route" else "services")
    pre = json.dumps(doc)[:-1]  # without the closing brace
    cases += [
        ("deep-open-top", b"[" * depth),
        ("deep-balanced-top", b"[" * depth + b"]" * depth),
        ("deep-open-value", (json.dumps({k: v for k, v in doc.items() if k != key})[:-1] +
                             f', "{key}": ' + "[" * depth).encode()),
        ("deep-balanced-value", json.dumps(_set(doc, [key], NUM)).replace(
            json.dumps(NUM), "[" * depth + "]" * depth).encode()),
        ("deep-objects-value", json.dumps(_set(doc, [key], NUM)).replace(
            json.dumps(NUM), '{"a":' * depth + "1" + "}" * depth).encode()),
        ("deep-open-extra-member", (pre + ', "zz": ' + "[" * depth).encode()),
    ]
    # invalid UTF-8 inside a string, and lone surrogates
    spath, lead = _string_key_for(target)
    for name, bad in [("ff", b"\xff"), ("c3-28", b"\xc3\x28"), ("overlong", b"\xc0\xaf"),
                      ("surrogate", b"\xed\xa0\x80"), ("cut-multibyte", b"\xe2\x82"),
                      ("fe-fe", b"\xfe\xfe"), ("f8", b"\xf8\x88\x80\x80\x80")]:
        body = json.dumps(_set(doc, spath, NUM)).encode().replace(
            json.dumps(NUM).encode(), b'"' + lead + b"ab" + bad + b'cd"')
        cases.append((f"utf8-{name}", body))
    for esc in ("\\ud800", "\\udfff", "\\ud800x"):
        body = json.dumps(_set(doc, spath, NUM)).replace(json.dumps(NUM),
                                                         f'"{lead.decode()}a{esc}"')
        cases.append((f"lone-surrogate-{esc[1:]}", body.encode()))
    cases.append(("raw-control-char", json.dumps(_set(doc, spath, NUM)).replace(
        json.dumps(NUM), f'"{lead.decode()}a\nb"').encode()))
    # duplicate keys: top level and nested, different and equal values
    top_key = next(iter(doc))
    cases.append(("dup-top-different", _dumps_dup(doc, (), top_key,
                                                   "zzz" if isinstance(doc[top_key], str) else []).encode()))
    cases.append(("dup-top-equal", _dumps_dup(doc, (), top_key, doc[top_key]).encode()))
    if target == "service":
        nested = (("endpoints", 0), "address", DEAD2)
    elif target == "route":
        nested = (("match",), "path_prefix", "/y/")
    else:
        nested = (("services", 0, "endpoints", 0), "address", DEAD2)
    cases.append(("dup-nested-different", _dumps_dup(doc, nested[0], nested[1], nested[2]).encode()))
    cur = doc
    for k in nested[0]:
        cur = cur[k]
    cases.append(("dup-nested-equal", _dumps_dup(doc, nested[0], nested[1], cur[nested[1]]).encode()))
    # trailing garbage
    for name, tail in [("x", "x"), ("brace", "}"), ("bracket", "]"), ("comma", ","),
                       ("second-doc", text), ("nul", "\x00"), ("comment", " // c"),
                       ("number", " 1"), ("newline-obj", "\n{}")]:
        cases.append((f"trailing-{name}", (text + tail).encode()))
    # syntax that is not JSON
    cases += [
        ("single-quotes", text.replace('"', "'").encode()),
        ("unquoted-keys", re.sub(r'"([a-z_]+)":', r"\1:", text).encode()),
        ("trailing-comma-object", (text[:-1] + ",}").encode()),
        ("comment-inside", ("{/*c*/" + text[1:]).encode()),
        ("bom-then-garbage", b"\xef\xbb\xbf\xef\xbb\xbf" + text.encode()),
    ]
    # empty and wrong top-level types
    cases += [("empty", b""), ("whitespace", b" \r\n\t "), ("array-empty", b"[]"),
              ("array-of-doc", f"[{text}]".encode()), ("null", b"null"), ("number", b"42"),
              ("string", json.dumps(text).encode()), ("true", b"true")]
    return cases


def _yaml_cases(target, doc):
    cases = []
    block = to_yaml(doc)
    flow = _flow_yaml(doc)
    # truncated inside a double-quoted scalar (never a valid document) ...
    inside = []
    in_q = False
    for i, ch in enumerate(block):
        if ch == '"' and (i == 0 or block[i - 1] != "\\"):
            in_q = not in_q
        elif in_q:
            inside.append(i)
    for n in [inside[j] for j in _spread(len(inside), 15)]:
        cases.append((f"truncated-in-string-{n}", block[:n].encode()))
    # ... and anywhere in a flow mapping (never closed)
    for n in _spread(len(flow), 20):
        cases.append((f"truncated-flow-{n}", flow[:n].encode()))
    # wrong types
    for i, (path, value) in enumerate(_paths_for(target, "yaml-types")):
        cases.append((f"type-{i}-{'.'.join(map(str, path))}", to_yaml(_set(doc, path, value)).encode()))
    # numbers
    nums = _paths_for(target, "numbers")
    wpath = ((_prefix(target)["svc"] or []) + ["endpoints", 0, "weight"]
             if _prefix(target)["svc"] is not None else ["split", 0, "weight"])
    nums += [(wpath, raw) for raw in YAML_NUMS_EXTRA]
    for i, (path, raw) in enumerate(nums):
        body = to_yaml(_set(doc, path, NUM)).replace(json.dumps(NUM), raw)
        cases.append((f"number-{i}-{'.'.join(map(str, path))}={raw}", body.encode()))
    # deep nesting
    depth = 10000
    cases += [
        ("deep-flow-open", b"[" * depth),
        ("deep-flow-balanced", b"[" * depth + b"]" * depth),
        ("deep-flow-maps", b"{a: " * depth + b"1" + b"}" * depth),
        ("deep-block-seq", ("- " * depth + "x\n").encode()),
        ("deep-value", to_yaml(_set(doc, [next(iter(doc))], NUM)).replace(
            json.dumps(NUM), "[" * depth + "]" * depth).encode()),
    ]
    # invalid UTF-8 in a quoted and in a plain scalar
    spath, lead = _string_key_for(target)
    for name, bad in [("ff", b"\xff"), ("c3-28", b"\xc3\x28"), ("overlong", b"\xc0\xaf"),
                      ("surrogate", b"\xed\xa0\x80"), ("cut-multibyte", b"\xe2\x82")]:
        text = to_yaml(_set(doc, spath, NUM)).encode()
        cases.append((f"utf8-quoted-{name}", text.replace(json.dumps(NUM).encode(),
                                                          b'"' + lead + b"ab" + bad + b'cd"')))
        cases.append((f"utf8-plain-{name}", text.replace(json.dumps(NUM).encode(),
                                                         lead + b"ab" + bad + b"cd")))
    # duplicate keys
    top_key = next(iter(doc))
    top_line = block.splitlines()[0]
    cases.append(("dup-top-equal", (block + top_line + "\n").encode()
                  if ":" in top_line and not top_line.endswith(":")
                  else (block + to_yaml({top_key: doc[top_key]})).encode()))
    cases.append(("dup-top-different", (block + to_yaml({top_key: [] if not isinstance(
        doc[top_key], str) else "other"})).encode()))
    lines = block.splitlines()
    nested_key = "address" if target in ("service", "config") else "path_prefix"
    for idx, ln in enumerate(lines):
        m = re.match(r"^(\s*)(- )?" + nested_key + r": ", ln)
        if m:
            indent = len(m.group(1)) + (2 if m.group(2) else 0)
            other = DEAD2 if nested_key == "address" else "/zz"
            dup_diff = lines[:idx + 1] + [" " * indent + f'{nested_key}: "{other}"'] + lines[idx + 1:]
            dup_same = lines[:idx + 1] + [" " * indent + ln.strip().lstrip("- ")] + lines[idx + 1:]
            cases.append(("dup-nested-different", ("\n".join(dup_diff) + "\n").encode()))
            cases.append(("dup-nested-equal", ("\n".join(dup_same) + "\n").encode()))
            break
    else:  # pragma: no cover - the documents above all have the key
        raise AssertionError(f"no {nested_key} line in {block}")
    cases.append(("dup-flow", ("{" + flow[1:-1] + ", " + flow[1:-1] + "}").encode()))
    # trailing garbage
    cases += [
        ("trailing-brackets", (block + "]]]\n").encode()),
        ("trailing-second-document", (block + "---\nservices: []\n").encode()),
        ("trailing-after-end-marker", (block + "...\ngarbage: [\n").encode()),
        ("trailing-flow-garbage", (flow + " }").encode()),
    ]
    # empty and wrong top-level types
    cases += [("empty", b""), ("newline", b"\n"), ("comment-only", b"# nothing\n"),
              ("document-start-only", b"---\n"), ("null", b"~\n"), ("null-word", b"null\n"),
              ("sequence", b"- a\n- b\n"), ("flow-sequence", b"[1, 2]\n"),
              ("sequence-of-doc", ("- " + flow + "\n").encode()), ("scalar", b"hello\n"),
              ("number", b"42\n")]
    # an alias to an anchor that does not exist
    cases.append(("undefined-alias", to_yaml(_set(doc, spath, NUM)).replace(
        json.dumps(NUM), "*nowhere").encode()))
    return cases


def _corpus():
    out = []
    for target, (method, path, doc) in TARGETS.items():
        for name, body in _json_cases(target, doc):
            out.append(pytest.param(method, path, JSON_CT, body, id=f"{target}-json-{name}"))
        for name, body in _yaml_cases(target, doc):
            out.append(pytest.param(method, path, YAML_CT, body, id=f"{target}-yaml-{name}"))
    ids = [p.id for p in out]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    return out


CORPUS = _corpus()


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------
class _Env:
    def __init__(self, binary, tmp):
        self.b1, self.b2 = Backend("m1"), Backend("m2")
        self.t = AdminTurnout(binary, tmp, name="malformed")
        self.seed = _seed(self.b1, self.b2)
        self.t.start(config=self.seed)
        self.deaths = 0
        self.model = None

    def ensure_alive(self):
        if not self.t.alive():
            self.deaths += 1
            self.t.restart(config=self.seed)
        if self.model is None:
            self.model = model_document(self.t.api().config())

    def restore(self):
        """After a case that (wrongly) changed the store, put the seed back so that the next
        cases start from it and report their own result, not this one's."""
        if not self.t.alive():
            return
        api = self.t.api()
        if model_document(api.config()) != self.model:
            r = api.put("/v1/config", json=self.model)
            assert r.status_code == 200, describe(r)

    def close(self):
        self.t.kill()
        self.b1.close()
        self.b2.close()


@pytest.fixture(scope="module")
def env(turnout_bin, tmp_path_factory):
    e = _Env(turnout_bin, tmp_path_factory.mktemp("malformed"))
    yield e
    e.close()


def _serves(t):
    with RawClient(t.port) as c:
        r = c.request("GET", "/echo")
    return r.status, r.header("X-Backend")


# --------------------------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------------------------
def test_valid_documents_are_accepted(admin_factory, backend_factory):
    """The corpus damages documents that are valid as they are, in JSON and in YAML."""
    b1, b2 = backend_factory("m1"), backend_factory("m2")
    for ctype, encode in ((JSON_CT, json.dumps), (YAML_CT, to_yaml), (YAML_CT, _flow_yaml)):
        t = admin_factory(config=_seed(b1, b2))
        api = t.api()
        for target in ("service", "route", "config"):
            method, path, doc = TARGETS[target]
            r = api.request(method, path, data=encode(doc), content_type=ctype)
            assert r.status_code in (200, 201), f"{target} {ctype}: {describe(r)}"
        t.kill()


def test_corpus_is_large_and_varied():
    ids = [p.id for p in CORPUS]
    assert len(ids) >= 300, len(ids)
    for needle in ("truncated", "type-", "number-", "deep-", "utf8-", "dup-top", "dup-nested",
                   "trailing-", "empty", "array", "sequence"):
        assert any(needle in i for i in ids), needle


@pytest.mark.parametrize("method,path,ctype,body", CORPUS)
def test_malformed_body_is_400_and_changes_nothing(env, method, path, ctype, body):
    env.ensure_alive()
    t = env.t
    api = t.api()
    before = api.config()
    try:
        try:
            r = api.request(method, path, data=body, content_type=ctype, timeout=20)
        except Exception as e:  # noqa: BLE001
            pytest.fail(f"no answer ({e!r}); turnout alive={t.alive()}\n{t.diagnostics()}")
        assert t.alive(), f"turnout died on this body (rc={t.proc.poll()})\n{t.diagnostics()}"
        after = api.config()
        assert 400 <= r.status_code < 500, f"{describe(r)}; store changed: {after != before}"
        api_error(r, 400)
        assert after == before, f"store changed by a rejected body:\n{before}\n->\n{after}"
        assert _serves(t) in ((200, "m1"), (200, "m2"))
    finally:
        env.restore()
