import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CLIENT_SETTINGS, SERVER_SETTINGS, allSettingKeys, configurationChange, getPath, nestSettings, toServerOptions } from "../src/settings";

/** What VS Code hands over with every setting at its contributed default. */
function defaults(): Record<string, unknown> {
    return {
        enable: true,
        server: { path: "", python: "python3", args: [] },
        trace: { server: "off" },
        indexDir: "",
        dataDir: "",
        developerId: "",
        completion: {
            enabled: true, backend: "embedded", model: "", url: "", maxTokens: 48, temperature: 0,
            candidates: 1, debounceMs: 75, proposalChooser: "classifier", classifier: "", proposal: 62, tokenHealing: true,
            dtype: "auto", ranking: "reward", rewardModel: "", hideBelow: 0.1,
        },
        diagnostics: { enabled: true, model: "", threshold: null, debounceMs: 150 },
    };
}

describe("toServerOptions", () => {
    it("maps the defaults to the server's defaults, with null for empty strings", () => {
        assert.deepEqual(toServerOptions(defaults()), {
            indexDir: null,
            dataDir: null,
            developerId: null,
            completion: {
                enabled: true, backend: "embedded", model: null, url: null, maxTokens: 48, temperature: 0,
                candidates: 1, debounceMs: 75, proposalChooser: "classifier", classifier: null, proposal: 62,
                tokenHealing: true, dtype: "auto", ranking: "reward", rewardModel: null, hideBelow: 0.1,
            },
            diagnostics: { enabled: true, model: null, threshold: null, debounceMs: 150 },
        });
    });

    it("drops the client's own keys and unknown keys", () => {
        const settings = { ...defaults(), surprise: 1, completion: { ...(defaults().completion as object), colour: "red" } };
        const options = toServerOptions(settings);
        for (const key of ["enable", "server", "trace", "surprise"]) {
            assert.equal(key in options, false, key);
        }
        assert.equal("colour" in (options.completion as object), false);
    });

    it("trims strings and sends whitespace-only ones as null", () => {
        const options = toServerOptions({
            indexDir: "  /tmp/index ", developerId: "   ", completion: { backend: "openai", url: " http://localhost:8000\n", model: "\t" },
        });
        assert.deepEqual(options, {
            indexDir: "/tmp/index", developerId: null, completion: { backend: "openai", url: "http://localhost:8000", model: null },
        });
    });

    it("keeps explicit null for optional strings and uses the default for null elsewhere", () => {
        const options = toServerOptions({ dataDir: null, completion: { maxTokens: null, enabled: null, model: null }, diagnostics: { enabled: null } });
        assert.deepEqual(options, { dataDir: null, completion: { enabled: true, model: null, maxTokens: 48 }, diagnostics: { enabled: true } });
    });

    it("leaves missing keys out, so the server keeps what it has", () => {
        assert.deepEqual(toServerOptions({ completion: { candidates: 3 } }), { completion: { candidates: 3 } });
        assert.deepEqual(toServerOptions({ diagnostics: {} }), {});
        assert.deepEqual(toServerOptions({}), {});
    });

    it("passes wrong types and out-of-range values on for the server to report", () => {
        const options = toServerOptions({
            completion: { maxTokens: "64", temperature: 9, backend: "gpt", enabled: "yes", candidates: [2] },
            indexDir: 5,
        });
        assert.deepEqual(options, {
            indexDir: 5,
            completion: { enabled: "yes", backend: "gpt", maxTokens: "64", temperature: 9, candidates: [2] },
        });
    });

    it("ignores a section that is not an object", () => {
        assert.deepEqual(toServerOptions({ completion: 5, diagnostics: "on", developerId: "ana" }), { developerId: "ana" });
    });

    it("answers {} for settings that are not an object", () => {
        for (const bad of [undefined, null, 3, "bowerbird", [], [{ completion: { enabled: false } }], true]) {
            assert.deepEqual(toServerOptions(bad), {}, JSON.stringify(bad));
        }
    });

    it("drops values JSON cannot carry", () => {
        assert.deepEqual(toServerOptions({ completion: { model: undefined, maxTokens: () => 3, url: Symbol("u") } }), {});
    });

    it("does not change its input", () => {
        const settings = defaults();
        const before = JSON.stringify(settings);
        toServerOptions(settings);
        assert.equal(JSON.stringify(settings), before);
    });
});

describe("configurationChange", () => {
    it("nests the options under the bowerbird section, as VS Code does", () => {
        assert.deepEqual(configurationChange({ enable: false, completion: { enabled: false } }), {
            settings: { bowerbird: { completion: { enabled: false } } },
        });
    });
});

describe("the settings table", () => {
    it("has exactly the server's option keys", () => {
        assert.deepEqual(SERVER_SETTINGS.map((s) => s.key), [
            "indexDir", "dataDir", "developerId",
            "completion.enabled", "completion.backend", "completion.model", "completion.url", "completion.maxTokens",
            "completion.temperature", "completion.candidates", "completion.debounceMs", "completion.proposalChooser",
            "completion.classifier", "completion.proposal",
            "completion.tokenHealing", "completion.dtype", "completion.ranking", "completion.rewardModel",
            "completion.hideBelow", "diagnostics.enabled", "diagnostics.model", "diagnostics.threshold",
            "diagnostics.debounceMs",
        ]);
    });

    it("has defaults inside their own ranges and enums", () => {
        for (const s of SERVER_SETTINGS) {
            if (typeof s.default === "number") {
                assert.ok(s.minimum === undefined || s.default >= s.minimum, s.key);
                assert.ok(s.maximum === undefined || s.default <= s.maximum, s.key);
                assert.ok(s.exclusiveMaximum === undefined || s.default < s.exclusiveMaximum, s.key);
            }
            if (s.enum) {
                assert.ok(s.enum.includes(s.default as string), s.key);
            }
        }
    });

    it("lists every key once across server and client settings", () => {
        const keys = allSettingKeys();
        assert.equal(new Set(keys).size, keys.length);
        assert.equal(keys.length, SERVER_SETTINGS.length + CLIENT_SETTINGS.length);
    });
});

describe("nestSettings and getPath", () => {
    it("nests dotted keys and reads them back", () => {
        const nested = nestSettings({ "completion.maxTokens": 12, enable: false, "server.args": ["--x"], "server.path": undefined });
        assert.deepEqual(nested, { completion: { maxTokens: 12 }, enable: false, server: { args: ["--x"] } });
        assert.equal(getPath(nested, "completion.maxTokens"), 12);
        assert.equal(getPath(nested, "completion.missing"), undefined);
        assert.equal(getPath(nested, "enable.deeper"), undefined);
        assert.equal(getPath(null, "enable"), undefined);
    });

    it("does not read inherited properties", () => {
        assert.equal(getPath({}, "toString"), undefined);
        assert.equal(getPath({ completion: {} }, "completion.constructor"), undefined);
    });
});
