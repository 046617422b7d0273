import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeCommand, expandPath, serverCommand } from "../src/serverCommand";

describe("serverCommand", () => {
    it("runs python3 -m bowerbird serve when nothing is set", () => {
        for (const settings of [undefined, null, {}, { server: {} }, { server: { path: "", python: "" } }, { server: null }]) {
            assert.deepEqual(serverCommand(settings), { command: "python3", args: ["-m", "bowerbird", "serve"], warnings: [] }, JSON.stringify(settings));
        }
    });

    it("uses the configured interpreter", () => {
        const command = serverCommand({ server: { path: "  ", python: "/opt/venv/bin/python", args: [] } });
        assert.deepEqual(command, { command: "/opt/venv/bin/python", args: ["-m", "bowerbird", "serve"], warnings: [] });
    });

    it("runs <path> serve when a path is set, extra arguments after serve", () => {
        const command = serverCommand({ server: { path: " /usr/local/bin/bowerbird ", python: "python3.12", args: ["--tcp", "127.0.0.1:2087"] } });
        assert.deepEqual(command, { command: "/usr/local/bin/bowerbird", args: ["serve", "--tcp", "127.0.0.1:2087"], warnings: [] });
    });

    it("puts extra arguments after serve with the interpreter too", () => {
        assert.deepEqual(serverCommand({ server: { args: ["-v"] } }).args, ["-m", "bowerbird", "serve", "-v"]);
    });

    it("expands ~ and ${workspaceFolder}", () => {
        const env = { home: "/home/ana", workspaceFolder: "/work/repo" };
        assert.deepEqual(serverCommand({ server: { python: "~/.venv/bin/python" } }, env).command, "/home/ana/.venv/bin/python");
        assert.deepEqual(serverCommand({ server: { path: "${workspaceFolder}/.venv/bin/bowerbird", args: ["--log=${workspaceFolder}/log"] } }, env),
            { command: "/work/repo/.venv/bin/bowerbird", args: ["serve", "--log=/work/repo/log"], warnings: [] });
    });

    it("reports and ignores values of the wrong type", () => {
        const command = serverCommand({ server: { path: 42, python: ["python"], args: ["ok", 3, null] } });
        assert.equal(command.command, "python3");
        assert.deepEqual(command.args, ["-m", "bowerbird", "serve", "ok"]);
        assert.deepEqual(command.warnings, [
            "bowerbird.server.args[1]: expected a string, got 3; ignored",
            "bowerbird.server.args[2]: expected a string, got null; ignored",
            "bowerbird.server.path: expected a string, got 42; ignored",
            'bowerbird.server.python: expected a string, got ["python"]; ignored',
        ]);
    });

    it("reports args that are not a list", () => {
        const command = serverCommand({ server: { args: "--tcp 1:2" } });
        assert.deepEqual(command.args, ["-m", "bowerbird", "serve"]);
        assert.deepEqual(command.warnings, ['bowerbird.server.args: expected a list of strings, got "--tcp 1:2"; ignored']);
    });
});

describe("expandPath", () => {
    it("expands only a leading ~ and leaves unknown variables", () => {
        assert.equal(expandPath("~", { home: "/h" }), "/h");
        assert.equal(expandPath("~/x", { home: "/h" }), "/h/x");
        assert.equal(expandPath("a/~/x", { home: "/h" }), "a/~/x");
        assert.equal(expandPath("~ana/x", { home: "/h" }), "~ana/x");
        assert.equal(expandPath("~/x", {}), "~/x");
        assert.equal(expandPath("${workspaceFolder}/x", {}), "${workspaceFolder}/x");
    });
});

describe("describeCommand", () => {
    it("quotes what a shell would split", () => {
        assert.equal(describeCommand({ command: "/My Tools/python", args: ["-m", "bowerbird", "serve", "it's"], warnings: [] }),
            "'/My Tools/python' -m bowerbird serve 'it'\\''s'");
        assert.equal(describeCommand(serverCommand({})), "python3 -m bowerbird serve");
    });
});
