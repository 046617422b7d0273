import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ClientState, baseName, parseStatus, settling, statusView } from "../src/statusText";

/** An answer shaped as server/features/indexing.py `status()` builds it. */
function serverStatus(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        version: "0.1.0",
        roots: [{
            root: "/work/repo", index_path: "/home/ana/.cache/bowerbird/index/repo-1a2b.sqlite", files: 1234, symbols: 56789,
            indexed: true, last_run: { root: "/work/repo", files_total: 1234, files_indexed: 3, seconds: 1.25 }, last_update: null,
        }],
        model: { loaded: true, name: "/opt/bowerbird/learners/checkpoints/code-lm", device: "cpu", error: null },
        options: { completion: { enabled: true, backend: "embedded" }, diagnostics: { enabled: true } },
        completions: { count: 42, timings_ms: { total: { p50: 71.5, p95: 109.2 }, model: { p50: 60, p95: 91 } } },
        ...overrides,
    };
}

function state(overrides: Partial<ClientState> = {}): ClientState {
    return { enabled: true, completionsEnabled: true, server: "running", progress: [], status: serverStatus(), ...overrides };
}

describe("parseStatus", () => {
    it("reads the server's answer", () => {
        assert.deepEqual(parseStatus(serverStatus()), {
            version: "0.1.0",
            roots: [{ root: "/work/repo", name: "repo", files: 1234, symbols: 56789, indexed: true, lastRunSeconds: 1.25 }],
            model: { loaded: true, name: "/opt/bowerbird/learners/checkpoints/code-lm", device: "cpu", error: undefined },
            backend: "embedded",
            completions: { count: 42, p50: 71.5, p95: 109.2 },
        });
    });

    it("gives safe values for a missing or broken answer", () => {
        const empty = { version: undefined, roots: [], model: { loaded: false, name: undefined, device: undefined, error: undefined }, backend: undefined, completions: { count: 0, p50: undefined, p95: undefined } };
        for (const bad of [undefined, null, "status", 7, [], {}, { roots: "many", model: "big", completions: [], options: 1 }]) {
            assert.deepEqual(parseStatus(bad), empty, JSON.stringify(bad));
        }
    });

    it("skips root entries that are not objects and tolerates wrong field types", () => {
        const status = parseStatus({ roots: [null, "x", { root: 3, files: "many", indexed: "yes", last_run: 5 }, { root: "C:\\src\\proj\\", indexed: true }] });
        assert.deepEqual(status.roots, [
            { root: "?", name: "?", files: undefined, symbols: undefined, indexed: false, lastRunSeconds: undefined },
            { root: "C:\\src\\proj\\", name: "proj", files: undefined, symbols: undefined, indexed: true, lastRunSeconds: undefined },
        ]);
    });

    it("treats a non-true loaded flag as not loaded and reads the model error", () => {
        const status = parseStatus({ model: { loaded: "true", name: "", error: "No module named 'torch'" } });
        assert.deepEqual(status.model, { loaded: false, name: undefined, device: undefined, error: "No module named 'torch'" });
    });
});

describe("statusView", () => {
    it("shows the model's short name when all is ready", () => {
        const view = statusView(state());
        assert.equal(view.text, "$(check) Bowerbird: code-lm");
        assert.equal(view.level, "ok");
        assert.deepEqual(view.tooltip.split("\n"), [
            "Bowerbird 0.1.0: server running",
            "Completions: on (embedded backend)",
            "Model: /opt/bowerbird/learners/checkpoints/code-lm on cpu, loaded",
            "Index: repo: 1,234 files, 56,789 symbols, indexed in 1.25 s",
            "Completions served: 42, total p50 71.5 ms, p95 109.2 ms",
            "Click for Bowerbird's menu.",
        ]);
    });

    it("says when the extension is turned off, whatever else is known", () => {
        const view = statusView(state({ enabled: false, server: "failed", error: "boom" }));
        assert.equal(view.text, "$(circle-slash) Bowerbird");
        assert.equal(view.level, "off");
        assert.match(view.tooltip, /bowerbird\.enable/);
    });

    it("shows a failed start with its error and command line", () => {
        const view = statusView(state({ server: "failed", status: undefined, error: "spawn python3 ENOENT", commandLine: "python3 -m bowerbird serve" }));
        assert.equal(view.text, "$(error) Bowerbird");
        assert.equal(view.level, "error");
        assert.deepEqual(view.tooltip.split("\n").slice(0, 3), [
            "Bowerbird: server not running", "Error: spawn python3 ENOENT", "Command: python3 -m bowerbird serve",
        ]);
    });

    it("spins while starting", () => {
        assert.deepEqual(
            [statusView(state({ server: "starting", status: undefined })).text, statusView(state({ server: "starting", status: undefined })).level],
            ["$(sync~spin) Bowerbird", "busy"],
        );
    });

    it("shows progress with its percentage, and how many more run", () => {
        const one = statusView(state({ progress: [{ token: "a", title: "Indexing repo", percentage: 40, message: "400/1000 files" }] }));
        assert.equal(one.text, "$(sync~spin) Bowerbird: Indexing repo 40%");
        assert.match(one.tooltip, /In progress: Indexing repo 40% \(400\/1000 files\)/);
        const two = statusView(state({ progress: [{ token: "a", title: "Indexing repo" }, { token: "b", title: "Loading model" }] }));
        assert.equal(two.text, "$(sync~spin) Bowerbird: Indexing repo +1");
    });

    it("says indexing when a root is not indexed yet (no progress reported)", () => {
        const status = serverStatus({ roots: [{ root: "/a/one", indexed: true }, { root: "/a/two", indexed: false, files: 0, symbols: 0 }] });
        const view = statusView(state({ status }));
        assert.equal(view.text, "$(sync~spin) Bowerbird: indexing");
        assert.match(view.tooltip, /Index: two: 0 files, 0 symbols, indexing/);
        assert.match(view.tooltip, /Index: one: \? files, \? symbols, indexed/);
    });

    it("warns about a model error", () => {
        const status = serverStatus({ model: { loaded: false, name: null, device: null, error: "cannot reach http://localhost:8000" } });
        const view = statusView(state({ status }));
        assert.equal(view.text, "$(warning) Bowerbird: no model");
        assert.equal(view.level, "warning");
        assert.match(view.tooltip, /Model: no model, failed: cannot reach http:\/\/localhost:8000/);
    });

    it("does not warn about the model while completions are off", () => {
        const status = serverStatus({ model: { loaded: false, error: "no torch" } });
        const view = statusView(state({ status, completionsEnabled: false }));
        assert.equal(view.text, "$(circle-slash) Bowerbird: completions off");
        assert.equal(view.level, "off");
        assert.match(view.tooltip, /Completions: off/);
    });

    it("says no folder when the server has no roots", () => {
        const view = statusView(state({ status: serverStatus({ roots: [] }) }));
        assert.equal(view.text, "$(info) Bowerbird: no folder");
        assert.match(view.tooltip, /no workspace folder/);
    });

    it("says loading model while the model is not loaded and has no error", () => {
        const view = statusView(state({ status: serverStatus({ model: { loaded: false } }) }));
        assert.equal(view.text, "$(sync~spin) Bowerbird: loading model");
    });

    it("waits for the first status", () => {
        const view = statusView(state({ status: undefined }));
        assert.equal(view.text, "$(sync~spin) Bowerbird");
        assert.deepEqual(view.tooltip.split("\n"), ["Bowerbird: server running", "Completions: on", "Click for Bowerbird's menu."]);
    });

    it("copes with a status that is garbage", () => {
        const view = statusView(state({ status: "nonsense" }));
        assert.equal(view.text, "$(info) Bowerbird: no folder");
        assert.match(view.tooltip, /Completions served: 0\n/);
    });

    it("shows a model without a name as plain Bowerbird", () => {
        assert.equal(statusView(state({ status: serverStatus({ model: { loaded: true } }) })).text, "$(check) Bowerbird");
    });
});

describe("settling", () => {
    it("is true until the indexes and the model are ready", () => {
        assert.equal(settling(state()), false);
        assert.equal(settling(state({ status: undefined })), true);
        assert.equal(settling(state({ progress: [{ token: "t", title: "Loading model" }] })), true);
        assert.equal(settling(state({ status: serverStatus({ roots: [{ root: "/r", indexed: false }] }) })), true);
        assert.equal(settling(state({ status: serverStatus({ model: { loaded: false } }) })), true);
    });

    it("is false when there is nothing to wait for", () => {
        assert.equal(settling(state({ status: serverStatus({ model: { loaded: false, error: "broken" } }) })), false);
        assert.equal(settling(state({ completionsEnabled: false, status: serverStatus({ model: { loaded: false } }) })), false);
        assert.equal(settling(state({ enabled: false })), false);
        assert.equal(settling(state({ server: "failed" })), false);
    });
});

describe("baseName", () => {
    it("takes the last component of paths and ids", () => {
        assert.equal(baseName("/a/b/code-lm"), "code-lm");
        assert.equal(baseName("/a/b/code-lm/"), "code-lm");
        assert.equal(baseName("Salesforce/codegen-350M-mono"), "codegen-350M-mono");
        assert.equal(baseName("C:\\models\\m"), "m");
        assert.equal(baseName("gpt"), "gpt");
        assert.equal(baseName("/"), "/");
    });
});
