// package.json agrees with the code: settings with the server's table, commands with the
// command table, the VS Code version with the API types, the pure modules free of `vscode`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { COMMANDS } from "../src/commands";
import { CLIENT_SETTINGS, SERVER_SETTINGS } from "../src/settings";

const ROOT = join(__dirname, "..", "..");

interface Property {
    type: string | string[];
    default: unknown;
    minimum?: number;
    maximum?: number;
    exclusiveMaximum?: number;
    enum?: string[];
    description?: string;
}

interface Manifest {
    main: string;
    engines: { vscode: string };
    activationEvents: string[];
    devDependencies: Record<string, string>;
    contributes: {
        commands: { command: string; title: string; category: string }[];
        configuration: { properties: Record<string, Property> };
    };
}

const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Manifest;
const properties = manifest.contributes.configuration.properties;

describe("package.json settings", () => {
    it("contribute every server option with its type, default, range and enum", () => {
        for (const setting of SERVER_SETTINGS) {
            const property = properties[`bowerbird.${setting.key}`];
            assert.ok(property, setting.key);
            assert.ok(property.description && property.description.length > 10, `${setting.key} has a description`);
            if (setting.kind === "nullableString") {
                assert.equal(property.type, "string", setting.key);
                assert.equal(property.default, "", `${setting.key}: empty in VS Code, null for the server`);
            } else if (setting.kind === "nullableNumber") {
                assert.deepEqual(property.type, ["number", "null"], setting.key);
                assert.equal(property.default, null, `${setting.key}: null, the server's default`);
            } else {
                assert.equal(property.type, setting.kind, setting.key);
                assert.equal(property.default, setting.default, setting.key);
            }
            assert.equal(property.minimum, setting.minimum, setting.key);
            assert.equal(property.maximum, setting.maximum, setting.key);
            assert.equal(property.exclusiveMaximum, setting.exclusiveMaximum, setting.key);
            assert.deepEqual(property.enum, setting.enum === undefined ? undefined : [...setting.enum], setting.key);
        }
    });

    it("contribute the client's own settings, and nothing else", () => {
        const expected = [...SERVER_SETTINGS.map((s) => s.key), ...CLIENT_SETTINGS].map((key) => `bowerbird.${key}`).sort();
        assert.deepEqual(Object.keys(properties).sort(), expected);
        assert.equal(properties["bowerbird.server.python"].default, "python3");
        assert.equal(properties["bowerbird.server.path"].default, "");
        assert.deepEqual(properties["bowerbird.server.args"].default, []);
        assert.equal(properties["bowerbird.enable"].default, true);
    });
});

describe("package.json commands", () => {
    it("are the command table's, in the Bowerbird category", () => {
        assert.deepEqual(
            manifest.contributes.commands.map((c) => [c.command, c.title, c.category]),
            COMMANDS.map((c) => [c.id, c.title, "Bowerbird"]),
        );
    });
});

describe("package.json", () => {
    it("activates on python and java files", () => {
        assert.deepEqual(manifest.activationEvents, ["onLanguage:python", "onLanguage:java"]);
    });

    it("pins the VS Code API types to the lowest VS Code it claims", () => {
        assert.equal(manifest.engines.vscode, `^${manifest.devDependencies["@types/vscode"]}`);
    });

    it("points main at the compiled extension", () => {
        assert.equal(manifest.main, "./out/src/extension.js");
        assert.ok(readFileSync(join(ROOT, manifest.main), "utf8").includes("activate"));
    });
});

describe("the pure modules", () => {
    it("do not load vscode", () => {
        for (const name of ["settings", "serverCommand", "statusText", "commands", "progress"]) {
            const source = readFileSync(join(ROOT, "out", "src", `${name}.js`), "utf8");
            assert.doesNotMatch(source, /require\("vscode(-languageclient[^"]*)?"\)/, name);
        }
    });
});
