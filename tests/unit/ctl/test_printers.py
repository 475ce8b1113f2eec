"""Printers and Go-format helpers as pure functions (no server): expected strings come from etcdctl 3.4.23."""

from __future__ import annotations

import pytest

from etcdkit.api.pb import kv_pb2, rpc_pb2
from etcdkit.ctl.printers import Display, GoPanic, Unsupported, fields, jsonfmt, simple
from etcdkit.ctl.printers._gofmt import go_duration, go_json_string, go_quote, humanize_bytes
from etcdkit.ctl.printers._gojson import encode, pb_to_go
from etcdkit.ctl.printers._layout import table, tabwriter

HDR = rpc_pb2.ResponseHeader(cluster_id=8509252906979048263, member_id=13069131245113705480, revision=4, raft_term=2)
KV1 = kv_pb2.KeyValue(key=b"foo", create_revision=2, mod_revision=2, version=1, value=b"bar")
KV2 = kv_pb2.KeyValue(key=b"foo2", create_revision=3, mod_revision=4, version=2, value=b"x")
GET = rpc_pb2.RangeResponse(header=HDR, kvs=[KV1, KV2], count=2)


@pytest.mark.parametrize(("raw", "quoted"), [
    (b"foo", '"foo"'), (b'a"b\\c', '"a\\"b\\\\c"'), (b"\t\n\x00\x7f", '"\\t\\n\\x00\\x7f"'),
    ("ünï".encode(), '"ünï"'), (b"\xff\xfe", '"\\xff\\xfe"'), ("\u200b".encode(), '"\\u200b"'),
])
def test_go_quote(raw: bytes, quoted: str) -> None:
    assert go_quote(raw) == quoted


def test_go_json_string_escapes_html_and_invalid_utf8() -> None:
    assert go_json_string('<a&b>"\n') == '"\\u003ca\\u0026b\\u003e\\"\\n"'
    assert go_json_string(b"\xff") == '"\\ufffd"'


@pytest.mark.parametrize(("size", "text"), [(0, "0 B"), (9, "9 B"), (20480, "20 kB"), (1234567, "1.2 MB"),
                                            (999_999, "1000 kB")])
def test_humanize_bytes(size: int, text: str) -> None:
    assert humanize_bytes(size) == text


@pytest.mark.parametrize(("ns", "text"), [(0, "0s"), (1_500_000, "1.5ms"), (3_711_522, "3.711522ms"), (999, "999ns"),
                                          (2_000_000_000, "2s"), (61_500_000_000, "1m1.5s"), (1500, "1.5µs")])
def test_go_duration(ns: int, text: str) -> None:
    assert go_duration(ns) == text


def test_simple_get_put_del() -> None:
    assert simple.get(GET) == "foo\nbar\nfoo2\nx\n"
    assert simple.get(GET, value_only=True) == "bar\nx\n"
    assert simple.get(GET, is_hex=True).startswith("\\x66\\x6f\\x6f\n\\x62\\x61\\x72\n")
    assert simple.put(rpc_pb2.PutResponse(header=HDR, prev_kv=KV1)) == "OK\nfoo\nbar\n"
    assert simple.delete(rpc_pb2.DeleteRangeResponse(header=HDR, deleted=1, prev_kvs=[KV1])) == "1\nfoo\nbar\n"


def test_fields_get() -> None:
    assert fields.get(GET) == (
        '"ClusterID" : 8509252906979048263\n"MemberID" : 13069131245113705480\n"Revision" : 4\n"RaftTerm" : 2\n'
        '"Key" : "foo"\n"CreateRevision" : 2\n"ModRevision" : 2\n"Version" : 1\n"Value" : "bar"\n"Lease" : 0\n'
        '"Key" : "foo2"\n"CreateRevision" : 3\n"ModRevision" : 4\n"Version" : 2\n"Value" : "x"\n"Lease" : 0\n'
        '"More" : false\n"Count" : 2\n'
    )


def test_json_get_matches_go_encoding() -> None:
    assert jsonfmt.generic(GET) == (
        '{"header":{"cluster_id":8509252906979048263,"member_id":13069131245113705480,"revision":4,"raft_term":2},'
        '"kvs":[{"key":"Zm9v","create_revision":2,"mod_revision":2,"version":1,"value":"YmFy"},'
        '{"key":"Zm9vMg==","create_revision":3,"mod_revision":4,"version":2,"value":"eA=="}],"count":2}\n'
    )


def test_json_oneof_and_enum_omitempty() -> None:
    txn = rpc_pb2.TxnResponse(header=HDR, responses=[rpc_pb2.ResponseOp(response_range=rpc_pb2.RangeResponse())])
    assert encode(pb_to_go(txn)).endswith('"responses":[{"Response":{"ResponseRange":{}}}]}')
    put_ev = rpc_pb2.WatchResponse(header=HDR, events=[kv_pb2.Event(type=kv_pb2.Event.PUT, kv=KV1)])
    assert '"Events":[{"kv":' in jsonfmt.watch(put_ev)  # PUT is 0: omitted
    del_ev = rpc_pb2.WatchResponse(header=HDR, events=[kv_pb2.Event(type=kv_pb2.Event.DELETE, kv=KV1)])
    assert '"Events":[{"type":1,' in jsonfmt.watch(del_ev)


def test_json_lease_shapes() -> None:
    ttl = rpc_pb2.LeaseTimeToLiveResponse(header=HDR, ID=4660, TTL=-1)
    assert jsonfmt.time_to_live(ttl, False) == (
        '{"cluster_id":8509252906979048263,"member_id":13069131245113705480,"revision":4,"raft_term":2,'
        '"id":4660,"ttl":-1,"granted-ttl":0,"keys":null}\n'
    )
    grant = rpc_pb2.LeaseGrantResponse(header=HDR, ID=7, TTL=100)
    assert jsonfmt.grant(grant).endswith('"ID":7,"TTL":100,"Error":""}\n')


def test_tabwriter_matches_go() -> None:
    text = "OPTIONS:\n  -h, --help[=false]\thelp for get\n      --prefix[=false]\tx\n\n"
    assert tabwriter(text) == "OPTIONS:\n  -h, --help[=false]\thelp for get\n      --prefix[=false]\tx\n\n"
    assert tabwriter("\ta\tb\n\tlonger-name\tc\n") == "\ta\t\tb\n\tlonger-name\tc\n"


def test_table_layout() -> None:
    out = table(["endpoint", "hash"], [["127.0.0.1:33303", "3555205551"]])
    assert out == (
        "+-----------------+------------+\n|    ENDPOINT     |    HASH    |\n+-----------------+------------+\n"
        "| 127.0.0.1:33303 | 3555205551 |\n+-----------------+------------+\n"
    )


def test_display_unsupported_and_panic() -> None:
    with pytest.raises(Unsupported):
        Display("table").render("get", GET)
    with pytest.raises(Unsupported):
        Display("fields").render("user_list", rpc_pb2.AuthUserListResponse(header=HDR))
    with pytest.raises(GoPanic):
        Display("fields").render("alarm", rpc_pb2.AlarmResponse())
    assert Display("protobuf").render("get", GET).encode("utf-8", "surrogateescape") == GET.SerializeToString()


def test_role_get_ranges() -> None:
    from etcdkit.api.pb import auth_pb2

    resp = rpc_pb2.AuthRoleGetResponse(header=HDR, perm=[
        auth_pb2.Permission(permType=auth_pb2.Permission.READ, key=b"k"),
        auth_pb2.Permission(permType=auth_pb2.Permission.READWRITE, key=b"p/", range_end=b"p0"),
        auth_pb2.Permission(permType=auth_pb2.Permission.WRITE, key=b"f", range_end=b"\x00"),
    ])
    assert simple.role_get("r", resp) == (
        "Role r\nKV Read:\n\tk\n\t[p/, p0) (prefix p/)\nKV Write:\n\t[p/, p0) (prefix p/)\n\t[f, <open ended>\n"
    )
