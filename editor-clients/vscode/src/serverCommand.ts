// The command line that starts the language server, from the settings. No `vscode` import.

import { getPath } from "./settings";

export const DEFAULT_PYTHON = "python3";

export interface ServerCommand {
    command: string;
    args: string[];
    /** Settings that were ignored, and why (for the output channel). */
    warnings: string[];
}

export interface Environment {
    /** The user's home directory, for a leading `~`. */
    home?: string;
    /** The first workspace folder's path, for `${workspaceFolder}`. */
    workspaceFolder?: string;
}

/** `~` and `${workspaceFolder}` expanded; left as they are when the environment lacks them. */
export function expandPath(value: string, env: Environment): string {
    let result = value;
    if (env.workspaceFolder !== undefined) {
        result = result.split("${workspaceFolder}").join(env.workspaceFolder);
    }
    if (env.home !== undefined && (result === "~" || result.startsWith("~/") || result.startsWith("~\\"))) {
        result = env.home + result.slice(1);
    }
    return result;
}

/**
 * `bowerbird.server.path` set: `<path> serve <args>`. Empty: `<python> -m bowerbird serve <args>`
 * with `bowerbird.server.python` (default `python3`). Extra arguments come after `serve`.
 */
export function serverCommand(settings: unknown, env: Environment = {}): ServerCommand {
    const warnings: string[] = [];
    const text = (key: string): string => {
        const value = getPath(settings, key);
        if (value === undefined || value === null) {
            return "";
        }
        if (typeof value !== "string") {
            warnings.push(`bowerbird.${key}: expected a string, got ${JSON.stringify(value)}; ignored`);
            return "";
        }
        return expandPath(value.trim(), env);
    };
    const args: string[] = [];
    const extra = getPath(settings, "server.args");
    if (Array.isArray(extra)) {
        extra.forEach((arg: unknown, index) => {
            if (typeof arg === "string") {
                args.push(expandPath(arg, env));
            } else {
                warnings.push(`bowerbird.server.args[${index}]: expected a string, got ${JSON.stringify(arg)}; ignored`);
            }
        });
    } else if (extra !== undefined && extra !== null) {
        warnings.push(`bowerbird.server.args: expected a list of strings, got ${JSON.stringify(extra)}; ignored`);
    }
    const path = text("server.path");
    if (path !== "") {
        return { command: path, args: ["serve", ...args], warnings };
    }
    const python = text("server.python") || DEFAULT_PYTHON;
    return { command: python, args: ["-m", "bowerbird", "serve", ...args], warnings };
}

/** The command line as one string, for the output channel and the status tooltip. */
export function describeCommand(command: ServerCommand): string {
    const quote = (part: string) => (/^[\w@%+=:,./~-]+$/.test(part) ? part : `'${part.replace(/'/g, "'\\''")}'`);
    return [command.command, ...command.args].map(quote).join(" ");
}
