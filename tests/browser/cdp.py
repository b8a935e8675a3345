# SPDX-License-Identifier: Apache-2.0
"""A small Chrome DevTools Protocol client for the dashboard's browser test: starts Debian's
headless Chromium on a temporary profile, attaches to its page over the DevTools websocket
(python3-websocket), and offers navigate / evaluate / wait / click / screenshot, and records
every request the page makes and every console or CSP message it logs."""

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.request

import websocket  # python3-websocket


class CDPError(Exception):
    pass


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    def __init__(self, profile_dir, width=1400, height=900, extra_args=()):
        exe = find_chromium()
        if exe is None:
            raise CDPError("no chromium binary (Debian package 'chromium')")
        self.profile = profile_dir
        os.makedirs(profile_dir, exist_ok=True)
        args = [
            exe,
            "--headless=new",
            "--no-sandbox",  # tests run as root in a container; the profile is throwaway
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--metrics-recording-only",
            "--user-data-dir=" + profile_dir,
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--window-size=%d,%d" % (width, height),
        ] + list(extra_args) + ["about:blank"]
        self.log = open(os.path.join(profile_dir, "chromium.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        port_file = os.path.join(profile_dir, "DevToolsActivePort")
        deadline = time.time() + 30
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if self.proc.poll() is not None or time.time() > deadline:
                self.close()
                raise CDPError("chromium did not start (see %s/chromium.log)" % profile_dir)
            time.sleep(0.1)
        self.port = int(open(port_file).read().split()[0])
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % self.port))
        page = next((t for t in targets if t.get("type") == "page"), None)
        if page is None:
            self.close()
            raise CDPError("chromium has no page target")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30,
                                              suppress_origin=True)
        self.next_id = 0
        self.requests = []  # URLs the page asked for
        self.request_log = []  # {"url", "method", "headers", "postData"} of each request
        self.console = []  # (level, text) from console and the browser log (CSP reports)
        self.exceptions = []
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(domain + ".enable")

    def _event(self, msg):
        method = msg.get("method")
        p = msg.get("params", {})
        if method == "Network.requestWillBeSent":
            r = p["request"]
            self.requests.append(r["url"])
            self.request_log.append({"url": r["url"], "method": r.get("method"),
                                     "headers": r.get("headers", {}),
                                     "postData": r.get("postData")})
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.console.append((p.get("type"), text))
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            self.console.append((e.get("level"), e.get("text", "")))
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.exceptions.append(d.get("exception", {}).get("description") or d.get("text"))

    def call(self, method, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise CDPError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self._event(msg)

    def pump(self, seconds):
        """Reads events for a while (requests and console messages keep arriving)."""
        end = time.time() + seconds
        self.ws.settimeout(0.1)
        try:
            while time.time() < end:
                try:
                    self._event(json.loads(self.ws.recv()))
                except websocket.WebSocketTimeoutException:
                    pass
        finally:
            self.ws.settimeout(30)

    def navigate(self, url):
        self.call("Page.navigate", url=url)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise CDPError("evaluate %r: %s" % (expr[:80], r["exceptionDetails"].get("text")))
        return r.get("result", {}).get("value")

    def wait(self, expr, timeout=20, what=None):
        """Polls a JS expression until it is truthy; returns its value or raises."""
        end = time.time() + timeout
        last = None
        while time.time() < end:
            try:
                last = self.eval(expr)
            except CDPError:
                last = None
            if last:
                return last
            self.pump(0.2)
        raise CDPError("timed out after %ss waiting for %s" % (timeout, what or expr))

    def set_files(self, selector, paths):
        """Puts files into an <input type=file> as if the user had picked them."""
        root = self.call("DOM.getDocument", depth=0)["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        if not node:
            raise CDPError("no element matches %s" % selector)
        self.call("DOM.setFileInputFiles", files=list(paths), nodeId=node)

    def screenshot(self, path):
        # the whole page, not only the viewport
        metrics = self.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics.get("contentSize")
        clip = {"x": 0, "y": 0, "width": max(800, size["width"]),
                "height": min(max(600, size["height"]), 4000), "scale": 1}
        r = self.call("Page.captureScreenshot", format="png", clip=clip,
                      captureBeyondViewport=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
        return path

    def close(self):
        try:
            if getattr(self, "ws", None) is not None:
                try:
                    self.call("Browser.close")
                except Exception:
                    pass
                self.ws.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.log.close()
