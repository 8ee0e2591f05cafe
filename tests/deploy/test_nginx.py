"""The README's nginx example, as shipped, in front of three engine nodes: Debian's nginx on loopback.

The file deploy/nginx/contact-center.conf is used as it is, but for its addresses: the upstream's
three servers become the test's nodes and ``listen 80`` a free loopback port. A small main config
around it stands in for Debian's /etc/nginx/nginx.conf (which includes conf.d inside ``http``).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.clients import WsClient, desk, send_until_acked, widget
from tests.conftest import free_port
from tests.nodes import Cluster, Node

pytestmark = pytest.mark.timeout(120)

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "contact-center.conf"


@dataclass
class Nginx:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


def render(example: str, port: int, upstreams: list[int]) -> str:
    """The example with the test's addresses; each replaced line must be there, or the example changed shape."""
    swaps = [("    listen 80;\n", f"    listen 127.0.0.1:{port};\n"), ("    listen [::]:80;\n", "")]
    swaps += [(f"server 127.0.0.1:{8081 + i} ", f"server 127.0.0.1:{p} ") for i, p in enumerate(upstreams)]
    for old, new in swaps:
        assert example.count(old) == 1, f"the nginx example no longer has {old!r}"
        example = example.replace(old, new)
    return example


@contextlib.contextmanager
def running_nginx(workdir: Path, port: int, upstreams: list[int]) -> Iterator[Nginx]:
    binary = shutil.which("nginx")
    if binary is None:
        pytest.fail("nginx is not installed (scripts/test-services.sh installs Debian's nginx)")
    (workdir / "contact-center.conf").write_text(render(EXAMPLE.read_text(), port, upstreams))
    temp = "".join(f"{kind}_temp_path {workdir}/{kind};\n    " for kind in ("client_body", "proxy", "fastcgi"))
    (workdir / "nginx.conf").write_text(
        f"""user root;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log {workdir}/access.log;
    {temp}uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    include {workdir}/contact-center.conf;
}}
"""
    )
    main = ["-p", str(workdir), "-c", str(workdir / "nginx.conf")]
    check = subprocess.run([binary, "-t", *main], capture_output=True, check=False)
    assert check.returncode == 0, check.stderr.decode()
    proc = subprocess.Popen([binary, *main, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {(workdir / 'error.log').read_text()}")
                time.sleep(0.05)
        yield Nginx(port, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
async def nodes_behind_nginx(tmp_path: Path, redis_url: str) -> AsyncIterator[tuple[list[Node], Nginx]]:
    port = free_port()
    cluster = Cluster(tmp_path, redis_url, origins=[f"http://127.0.0.1:{port}"])  # the page comes through nginx
    cluster.add_agent("ayu", chats=3)
    proxy_dir = tmp_path / "nginx"
    proxy_dir.mkdir()
    try:
        nodes = [await cluster.start(name) for name in ("a", "b", "c")]
        with running_nginx(proxy_dir, port, [n.port for n in nodes]) as proxy:
            yield nodes, proxy
    finally:
        for node in cluster.nodes:
            node.stop()


async def sockets_per_node(nodes: list[Node]) -> list[int]:
    counts = []
    async with aiohttp.ClientSession() as http:
        for node in nodes:
            try:
                async with http.get(f"{node.url}/metrics") as r:
                    text = await r.text()
            except aiohttp.ClientError:
                counts.append(0)
                continue
            line = next(x for x in text.splitlines() if x.startswith("cc_sockets_open "))
            counts.append(int(float(line.split()[1])))
    return counts


async def still_there(client: WsClient) -> bool:
    """Whether the client's socket still answers (its node alive), or was closed under it."""
    try:
        await client.send({"type": "ping"})
        await client.expect("pong", timeout=2)
    except Exception:
        return False
    return True


async def test_three_nodes_behind_the_nginx_example_serve_and_survive_one_dying(nodes_behind_nginx):
    """Through nginx alone: sockets spread over the three nodes, chats are answered across them, and when a
    node is killed exactly its clients are cut off, reconnect through nginx to the others and carry on,
    each message once."""
    nodes, proxy = nodes_behind_nginx
    agent, _ = await desk(proxy, "ayu")  # type: ignore[arg-type]  (signs in through nginx too)
    chats = []
    for i in range(5):
        customer, hello = await widget(proxy, {"topic": "general", "language": "id"})  # type: ignore[arg-type]
        chats.append({"client": customer, "token": hello["token"], "n": i})
    spread = await sockets_per_node(nodes)
    assert sum(spread) == 6 and all(count >= 1 for count in spread), f"least_conn spreads the sockets: {spread}"
    for chat in chats[:3]:  # ayu takes three (her room); two wait
        await chat["client"].send({"type": "message", "client_id": "m1", "text": f"Halo {chat['n']}"})
        chat["contact_id"] = (await chat["client"].expect("ack", client_id="m1"))["contact_id"]
        offer = await agent.expect("offer")
        assert offer["contact"]["id"] == chat["contact_id"]
        await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
        await agent.expect("assigned")
        await chat["client"].expect("agent_joined")

    nodes[0].kill()
    moved = 0
    for chat in chats:
        if not await still_there(chat["client"]):  # its node was the one killed: back through nginx
            hello = {"token": chat["token"], "contact_id": chat.get("contact_id"), "last_seq": 1}
            resume = {k: v for k, v in hello.items() if v is not None}
            chat["client"], back = await widget(proxy, resume)  # type: ignore[arg-type]
            if "contact_id" in chat:
                assert back["contact"] == {"id": chat["contact_id"], "state": "assigned"}
            moved += 1
    if not await still_there(agent):
        agent, welcome = await desk(proxy, "ayu")  # type: ignore[arg-type]
        assert sorted(c["contact"]["id"] for c in welcome["contacts"]) == sorted(c["contact_id"] for c in chats[:3])
        moved += 1
    assert moved == spread[0], "the killed node's clients, and only they, were cut off"

    for chat in chats[:3]:
        message = {"type": "message", "client_id": "m2", "text": f"Masih di sana? {chat['n']}"}
        assert (await send_until_acked(chat["client"], message))["seq"] == 2
        got = await agent.expect("message", contact_id=chat["contact_id"], seq=2, timeout=5)
        assert got["text"] == message["text"]
        reply = {"type": "reply", "contact_id": chat["contact_id"], "client_id": f"r{chat['n']}", "text": "Ya"}
        assert (await send_until_acked(agent, reply))["seq"] == 3
        assert (await chat["client"].expect("message", seq=3, timeout=5))["text"] == "Ya"
    for chat in chats[:3]:
        await agent.nothing("message", contact_id=chat["contact_id"], seq=2, wait=0.1)
