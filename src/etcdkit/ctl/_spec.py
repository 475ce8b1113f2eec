"""The command tree of etcdctl 3.4 as data: names, usage lines, help texts, flags.

Every user-visible string here mirrors etcdctl 3.4.23's so that help, usage and
flag errors come out byte-identical. ``handler`` names ``module:function``
under ``etcdkit.ctl.commands`` and is imported only when the command runs.
"""

from __future__ import annotations

__all__ = ["GLOBAL_FLAGS", "ROOT", "Command", "Flag"]


class Flag:
    """One pflag flag. ``kind`` is bool/string/int/uint/duration/strings; ``default`` is the raw default text.

    A plain class rather than a dataclass: importing ``dataclasses`` costs ~10 ms of CLI start-up.
    """

    __slots__ = ("default", "help", "hidden", "kind", "name", "short")

    def __init__(self, name: str, kind: str, default: str, help: str, short: str = "", hidden: bool = False) -> None:
        self.name = name
        self.kind = kind
        self.default = default
        self.help = help
        self.short = short
        self.hidden = hidden


class Command:
    """A cobra command: ``use`` is its Use line, ``children`` its sub-commands (sorted by name when shown)."""

    def __init__(self, use: str, short: str, long: str = "", flags: list[Flag] | None = None,
                 persistent: list[Flag] | None = None, handler: str = "", children: list[Command] | None = None,
                 parent: Command | None = None, hidden: bool = False) -> None:
        self.hidden = hidden
        self.use = use
        self.short = short
        self.long = long
        self.flags = flags or []
        self.persistent = persistent or []
        self.handler = handler
        self.children = children or []
        self.parent = parent

    @property
    def name(self) -> str:
        return self.use.split(" ", 1)[0]

    def path(self) -> list[str]:
        """Names from the root's child down to this command (empty for the root)."""
        out: list[str] = []
        c: Command | None = self
        while c is not None and c.parent is not None:
            out.append(c.name)
            c = c.parent
        return list(reversed(out))

    def child(self, name: str) -> Command | None:
        for c in self.children:
            if c.name == name:
                return c
        return None


def _b(name: str, help: str, short: str = "", default: str = "false", hidden: bool = False) -> Flag:
    return Flag(name, "bool", default, help, short, hidden)


def _s(name: str, default: str, help: str, short: str = "") -> Flag:
    return Flag(name, "string", default, help, short)


def _i(name: str, default: str, help: str, kind: str = "int") -> Flag:
    return Flag(name, kind, default, help)


GLOBAL_FLAGS: list[Flag] = [
    _s("cacert", "", "verify certificates of TLS-enabled secure servers using this CA bundle"),
    _s("cert", "", "identify secure client using this TLS certificate file"),
    Flag("command-timeout", "duration", "5s", "timeout for short running command (excluding dial timeout)"),
    _b("debug", "enable client-side debug logging"),
    Flag("dial-timeout", "duration", "2s", "dial timeout for client connections"),
    _s("discovery-srv", "", "domain name to query for SRV records describing cluster endpoints", "d"),
    _s("discovery-srv-name", "", "service name to query when using DNS discovery"),
    Flag("endpoints", "strings", "127.0.0.1:2379", "gRPC endpoints"),
    _b("hex", "print byte strings as hex encoded strings"),
    _b("insecure-discovery", "accept insecure SRV records describing cluster endpoints", default="true"),
    _b(
        "insecure-skip-tls-verify",
        "skip server certificate verification (CAUTION: this option should be enabled only for testing purposes)",
    ),
    _b("insecure-transport", "disable transport security for client connections", default="true"),
    Flag("keepalive-time", "duration", "2s", "keepalive time for client connections"),
    Flag("keepalive-timeout", "duration", "6s", "keepalive timeout for client connections"),
    _s("key", "", "identify secure client using this TLS key file"),
    _s("password", "",
       "password for authentication (if this option is used, --user option shouldn't include password)"),
    _s("user", "", "username[:password] for authentication (prompt if password is not supplied)"),
    _s("write-out", "simple", "set the output format (fields, json, protobuf, simple, table)", "w"),
]

_STATUS_LONG = (
    "When --write-out is set to simple, this command prints out comma-separated status lists for each endpoint.\n"
    "The items in the lists are {}."
)
_PUT_LONG = """Puts the given key into the store.

When <value> begins with '-', <value> is interpreted as a flag.
Insert '--' for workaround:

$ put <key> -- <value>
$ put -- <key> <value>

If <value> isn't given as a command line argument and '--ignore-value' is not specified,
this command tries to read the value from standard input.

If <lease> isn't given as a command line argument and '--ignore-lease' is not specified,
this command tries to read the value from standard input.

For example,
$ cat file | put <key>
will store the content of the file to <key>."""

_PERF_FLAGS = [
    _b("auto-compact", "Compact storage with last revision after test is finished."),
    _b("auto-defrag", "Defragment storage after test is finished."),
]


def _cmd(use: str, short: str, handler: str = "", *flags: Flag, long: str = "", children: list[Command] | None = None,
         persistent: list[Flag] | None = None) -> Command:
    c = Command(use, short, long, list(flags), list(persistent or []), handler, list(children or []))
    for ch in c.children:
        ch.parent = c
    return c


def _hidden(cmd: Command) -> Command:
    """Commands etcdctl 3.4 lacks (added for etcdctl 3.5 users) stay out of help listings."""
    cmd.hidden = True
    return cmd


def _perm_flags(verb: str) -> list[Flag]:
    return [
        _b("from-key",
           f"{verb} a permission of keys that are greater than or equal to the given key using byte compare"),
        _b("prefix", f"{verb} a prefix permission"),
    ]


def _build() -> Command:
    kv = "kv:"
    children = [
        _cmd("get [options] <key> [range_end]", "Gets the key or a range of keys", kv + "get",
             _s("consistency", "l", "Linearizable(l) or Serializable(s)"),
             _b("from-key", "Get keys that are greater than or equal to the given key using byte compare"),
             _b("keys-only", "Get only the keys"),
             _i("limit", "0", "Maximum number of results"),
             _s("order", "", "Order of results; ASCEND or DESCEND (ASCEND by default)"),
             _b("prefix", "Get keys with matching prefix"),
             _b("print-value-only", 'Only write values when using the "simple" output format'),
             _i("rev", "0", "Specify the kv revision"),
             _s("sort-by", "", "Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION"),
             _b("count-only", "Get only the count", hidden=True)),
        _cmd("put [options] <key> <value> (<value> can also be given from stdin)", "Puts the given key into the store",
             kv + "put",
             _b("ignore-lease", "updates the key using its current lease"),
             _b("ignore-value", "updates the key using its current value"),
             _s("lease", "0", "lease ID (in hexadecimal) to attach to the key"),
             _b("prev-kv", "return the previous key-value pair before modification"), long=_PUT_LONG),
        _cmd("del [options] <key> [range_end]", "Removes the specified key or range of keys [key, range_end)",
             kv + "delete",
             _b("from-key", "delete keys that are greater than or equal to the given key using byte compare"),
             _b("prefix", "delete keys with matching prefix"),
             _b("prev-kv", "return deleted key-value pairs")),
        _cmd("txn [options]", "Txn processes all the requests in one transaction", "txn:txn",
             _b("interactive", "Input transaction in interactive mode", "i")),
        _cmd("compaction [options] <revision>", "Compacts the event history in etcd", kv + "compaction",
             _b("physical", "'true' to wait for compaction to physically remove all old revisions")),
        _cmd("alarm <subcommand>", "Alarm related commands", children=[
            _cmd("disarm", "Disarms all alarms", "maintenance:alarm_disarm"),
            _cmd("list", "Lists all alarms", "maintenance:alarm_list")]),
        _cmd("defrag", "Defragments the storage of the etcd members with given endpoints", "maintenance:defrag",
             _b("cluster", "use all endpoints from the cluster member list"),
             _s("data-dir", "", "Optional. If present, defragments a data directory not in use by etcd.")),
        _cmd("endpoint <subcommand>", "Endpoint related commands", persistent=[
            _b("cluster", "use all endpoints from the cluster member list")], children=[
            _cmd("health", "Checks the healthiness of endpoints specified in `--endpoints` flag",
                 "endpoint:health"),
            _cmd("status", "Prints out the status of endpoints specified in `--endpoints` flag", "endpoint:status",
                 long=_STATUS_LONG.format("endpoint, ID, version, db size, is leader, is learner, raft term, "
                                          "raft index, raft applied index, errors")),
            _cmd("hashkv", "Prints the KV history hash for each endpoint in --endpoints", "endpoint:hashkv",
                 _i("rev", "0", "maximum revision to hash (default: all revisions)"))]),
        _cmd("move-leader <transferee-member-id>", "Transfers leadership to another etcd cluster member.",
             "member:move_leader"),
        _cmd("lease <subcommand>", "Lease related commands", children=[
            _cmd("grant <ttl>", "Creates leases", "lease:grant"),
            _cmd("revoke <leaseID>", "Revokes leases", "lease:revoke"),
            _cmd("timetolive <leaseID> [options]", "Get lease information", "lease:timetolive",
                 _b("keys", "Get keys attached to this lease")),
            _cmd("list", "List all active leases", "lease:list_leases"),
            _cmd("keep-alive [options] <leaseID>", "Keeps leases alive (renew)", "lease:keep_alive",
                 _b("once", "Resets the keep-alive time to its original value and exits immediately"))]),
        _cmd("member <subcommand>", "Membership related commands", children=[
            _cmd("add <memberName> [options]", "Adds a member into the cluster", "member:add",
                 _b("learner", "indicates if the new member is raft learner"),
                 _s("peer-urls", "", "comma separated peer URLs for the new member.")),
            _cmd("remove <memberID>", "Removes a member from the cluster", "member:remove"),
            _cmd("update <memberID> [options]", "Updates a member in the cluster", "member:update",
                 _s("peer-urls", "", "comma separated peer URLs for the updated member.")),
            _cmd("list", "Lists all members in the cluster", "member:list_members",
                 long=_STATUS_LONG.replace("status", "member").format(
                     "ID, Status, Name, Peer Addrs, Client Addrs, Is Learner")),
            _cmd("promote <memberID>", "Promotes a non-voting member in the cluster", "member:promote",
                 long="Promotes a non-voting learner member to a voting one in the cluster.")]),
        _cmd("snapshot <subcommand>", "Manages etcd node snapshots", children=[
            _cmd("save <filename>", "Stores an etcd node backend snapshot to a given file", "snapshot:save"),
            _cmd("restore <filename> [options]", "Restores an etcd member snapshot to an etcd directory",
                 "snapshot:restore",
                 _s("data-dir", "", "Path to the data directory"),
                 _s("initial-advertise-peer-urls", "http://localhost:2380",
                    "List of this member's peer URLs to advertise to the rest of the cluster"),
                 _s("initial-cluster", "default=http://localhost:2380",
                    "Initial cluster configuration for restore bootstrap"),
                 _s("initial-cluster-token", "etcd-cluster",
                    "Initial cluster token for the etcd cluster during restore bootstrap"),
                 _s("name", "default", "Human-readable name for this member"),
                 _b("skip-hash-check", "Ignore snapshot integrity hash value (required if copied from data directory)"),
                 _s("wal-dir", "", "Path to the WAL directory (use --data-dir if none given)")),
            # Beyond etcdctl: hidden from the listing so `help` stays byte-identical to etcdctl's.
            _hidden(_cmd("export <filename> --etcd-data-dir <dir> [options]",
                 "Turns a snapshot (etcd's or etcdkit's) into a data directory real etcd starts from",
                 "snapshot:export",
                 _s("etcd-data-dir", "", "Path of the etcd data directory to create"),
                 _s("initial-advertise-peer-urls", "http://localhost:2380",
                    "List of this member's peer URLs to advertise to the rest of the cluster"),
                 _s("initial-cluster", "default=http://localhost:2380",
                    "Initial cluster configuration for restore bootstrap"),
                 _s("initial-cluster-token", "etcd-cluster",
                    "Initial cluster token for the etcd cluster during restore bootstrap"),
                 _s("name", "default", "Human-readable name for this member"),
                 _b("skip-hash-check", "Ignore snapshot integrity hash value (required if copied from data directory)"),
                 long="Writes etcd's data directory (WAL and raft snapshot) with etcd's own restore tool, "
                      "etcdutl or etcdctl, which must be on PATH.")),
            _cmd("status <filename>", "Gets backend snapshot status of a given file", "snapshot:status",
                 long=_STATUS_LONG.format("hash, revision, total keys, total size"))]),
        _cmd("make-mirror [options] <destination>", "Makes a mirror at the destination etcd cluster",
             "misc:unsupported",
             _s("dest-cacert", "", "Verify certificates of TLS enabled secure servers using this CA bundle"),
             _s("dest-cert", "", "Identify secure client using this TLS certificate file for the destination cluster"),
             _b("dest-insecure-transport", "Disable transport security for client connections", default="true"),
             _s("dest-key", "", "Identify secure client using this TLS key file"),
             _s("dest-prefix", "", "destination prefix to mirror a prefix to a different prefix in the destination "
                "cluster"),
             _b("no-dest-prefix", "mirror key-values to the root of the destination cluster"),
             _s("prefix", "", "Key-value prefix to mirror")),
        _cmd("migrate", "Migrates keys in a v2 store to a mvcc store", "misc:unsupported",
             _s("data-dir", "", "Path to the data directory"),
             _b("no-ttl", "Do not convert TTL keys"),
             _s("transformer", "", "Path to the user-provided transformer program"),
             _s("wal-dir", "", "Path to the WAL directory")),
        _cmd("lock <lockname> [exec-command arg1 arg2 ...]", "Acquires a named lock", "concurrency:lock",
             _i("ttl", "10", "timeout for session")),
        _cmd("elect <election-name> [proposal]", "Observes and participates in leader election",
             "concurrency:elect", _b("listen", "observation mode", "l")),
        _cmd("auth <enable or disable>", "Enable or disable authentication", children=[
            _cmd("enable", "Enables authentication", "auth:auth_enable"),
            _cmd("disable", "Disables authentication", "auth:auth_disable"),
            _hidden(_cmd("status", "Returns authentication status", "auth:auth_status"))]),
        _cmd("user <subcommand>", "User related commands", children=[
            _cmd("add <user name or user:password> [options]", "Adds a new user", "auth:user_add",
                 _b("interactive", "Read password from stdin instead of interactive terminal", default="true"),
                 _s("new-user-password", "", "Supply password from the command line flag"),
                 _b("no-password", "Create a user without password (CN based auth only)")),
            _cmd("delete <user name>", "Deletes a user", "auth:user_delete"),
            _cmd("get <user name> [options]", "Gets detailed information of a user", "auth:user_get",
                 _b("detail", "Show permissions of roles granted to the user")),
            _cmd("list", "Lists all users", "auth:user_list"),
            _cmd("passwd <user name> [options]", "Changes password of user", "auth:user_passwd",
                 _b("interactive", "If true, read password from stdin instead of interactive terminal",
                    default="true")),
            _cmd("grant-role <user name> <role name>", "Grants a role to a user", "auth:user_grant_role"),
            _cmd("revoke-role <user name> <role name>", "Revokes a role from a user", "auth:user_revoke_role")]),
        _cmd("role <subcommand>", "Role related commands", children=[
            _cmd("add <role name>", "Adds a new role", "auth:role_add"),
            _cmd("delete <role name>", "Deletes a role", "auth:role_delete"),
            _cmd("get <role name>", "Gets detailed information of a role", "auth:role_get"),
            _cmd("list", "Lists all roles", "auth:role_list"),
            _cmd("grant-permission [options] <role name> <permission type> <key> [endkey]", "Grants a key to a role",
                 "auth:role_grant_permission", *_perm_flags("grant")),
            _cmd("revoke-permission <role name> <key> [endkey]", "Revokes a key from a role",
                 "auth:role_revoke_permission", *_perm_flags("revoke"))]),
        _cmd("check <subcommand>", "commands for checking properties of the etcd cluster", children=[
            _cmd("perf [options]", "Check the performance of the etcd cluster", "perf:check_perf",
                 *_PERF_FLAGS,
                 _s("load", "s", "The performance check's workload model. Accepted workloads: s(small), m(medium), "
                    "l(large), xl(xLarge)"),
                 _s("prefix", "/etcdctl-check-perf/", "The prefix for writing the performance check's keys."),
                 Flag("duration", "int", "0", "test duration in seconds (etcdkit extension)", hidden=True)),
            _cmd("datascale [options]",
                 "Check the memory usage of holding data for different workloads on a given server endpoint.",
                 "misc:unsupported", *_PERF_FLAGS,
                 _s("load", "s", "The datascale check's workload model. Accepted workloads: s(small), m(medium), "
                    "l(large), xl(xLarge)"),
                 _s("prefix", "/etcdctl-check-datascale/", "The prefix for writing the datascale check's keys."),
                 long="If no endpoint is provided, localhost will be used. If multiple endpoints are provided, "
                 "first endpoint will be used.")]),
        _cmd("version", "Prints the version of etcdctl", "misc:version"),
        _cmd("watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]",
             "Watches events stream on keys or prefixes", "watch:watch",
             _b("interactive", "Interactive mode", "i"),
             _b("prefix", "Watch on a prefix if prefix is set"),
             _b("prev-kv", "get the previous key-value pair before the event happens"),
             _i("rev", "0", "Revision to start watching"),
             _b("progress-notify", "get periodic watch progress notification from server", hidden=True)),
        _cmd("completion", "Generate the autocompletion script for the specified shell",
             long="Generate the autocompletion script for etcdctl for the specified shell.\n"
             "See each sub-command's help for details on how to use the generated script.", children=[
                 _cmd(f"{sh}", f"Generate the autocompletion script for {sh}", "completion:" + sh)
                 for sh in ("bash", "fish", "powershell", "zsh")]),
        _cmd("help [command]", "Help about any command", "help"),
    ]
    return _cmd("etcdctl", "A simple command line client for etcd3.", "", children=children,
                persistent=GLOBAL_FLAGS)


ROOT: Command = _build()
