// The VS Code side: starts `bowerbird serve` through vscode-languageclient, pushes settings,
// shows the status bar item and runs the commands. Everything decidable without VS Code lives
// in the pure modules (settings, serverCommand, statusText, commands, progress).

import * as os from "node:os";
import * as vscode from "vscode";
import {
    DidChangeConfigurationNotification,
    ExecuteCommandRequest,
    type Executable,
    LanguageClient,
    type LanguageClientOptions,
    RevealOutputChannelOn,
    State,
    TransportKind,
} from "vscode-languageclient/node";
import { COMMANDS, type ClientAction, SERVER_COMMANDS, forgetMessage, menuItems, reindexMessage, toggleScope } from "./commands";
import { ProgressTracker } from "./progress";
import { ProgressFeature } from "./progressFeature";
import { describeCommand, serverCommand } from "./serverCommand";
import { allSettingKeys, configurationChange, nestSettings, toServerOptions } from "./settings";
import { type ServerState, settling, statusView } from "./statusText";

const SECTION = "bowerbird";
const DOCUMENTS = [
    { scheme: "file", language: "python" },
    { scheme: "file", language: "java" },
];
const POLL_SETTLING_MS = 2_000; // while indexes are built or the model loads
const POLL_IDLE_MS = 60_000;
const FIRST_STATUS_MS = 1_000;

/** The `bowerbird` settings as one nested object, as the pure modules take them. */
function readSettings(): Record<string, unknown> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const flat: Record<string, unknown> = {};
    for (const key of allSettingKeys()) {
        flat[key] = config.get(key);
    }
    return nestSettings(flat);
}

function message(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}

class Bowerbird implements vscode.Disposable {
    private client: LanguageClient | undefined;
    private readonly output = vscode.window.createOutputChannel("Bowerbird", { log: true });
    private readonly item = vscode.window.createStatusBarItem("bowerbird.status", vscode.StatusBarAlignment.Right, 100);
    private readonly tracker = new ProgressTracker();
    private readonly disposables: vscode.Disposable[] = [];
    private server: ServerState = "stopped";
    private status: unknown;
    private error: string | undefined;
    private commandLine: string | undefined;
    private timer: NodeJS.Timeout | undefined;
    private asking = false;
    private starting: Promise<void> = Promise.resolve();

    constructor() {
        this.item.name = "Bowerbird";
        this.item.command = COMMANDS.find((c) => c.action === "menu")?.id;
        this.disposables.push(this.output, this.item);
        for (const spec of COMMANDS) {
            this.disposables.push(vscode.commands.registerCommand(spec.id, () => this.run(spec.action)));
        }
        this.disposables.push(vscode.workspace.onDidChangeConfiguration((event) => this.configurationChanged(event)));
        this.render();
        this.item.show();
    }

    private enabled(): boolean {
        return vscode.workspace.getConfiguration(SECTION).get<boolean>("enable", true) !== false;
    }

    private completionsEnabled(): boolean {
        return vscode.workspace.getConfiguration(SECTION).get<boolean>("completion.enabled", true) !== false;
    }

    render(): void {
        const view = statusView({
            enabled: this.enabled(),
            completionsEnabled: this.completionsEnabled(),
            server: this.server,
            progress: this.tracker.active(),
            status: this.status,
            error: this.error,
            commandLine: this.commandLine,
        });
        this.item.text = view.text;
        this.item.tooltip = view.tooltip;
        this.item.backgroundColor =
            view.level === "error"
                ? new vscode.ThemeColor("statusBarItem.errorBackground")
                : view.level === "warning"
                  ? new vscode.ThemeColor("statusBarItem.warningBackground")
                  : undefined;
    }

    /** Start the server (when enabled); waits for any start or stop in progress first. */
    start(): Promise<void> {
        return this.queue(() => this.doStart());
    }

    /** Run starts and stops one after the other; a failure is logged and does not stop the queue. */
    private queue(work: () => Promise<void>): Promise<void> {
        this.starting = this.starting.then(work).catch((error: unknown) => {
            this.output.error(message(error));
        });
        return this.starting;
    }

    private async doStart(): Promise<void> {
        if (this.client !== undefined || !this.enabled()) {
            this.render();
            return;
        }
        const settings = readSettings();
        const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
        const command = serverCommand(settings, { home: os.homedir(), workspaceFolder: folder });
        for (const warning of command.warnings) {
            this.output.warn(warning);
        }
        this.commandLine = describeCommand(command);
        this.output.info(`starting: ${this.commandLine}`);
        const executable: Executable = {
            command: command.command,
            args: command.args,
            transport: TransportKind.stdio,
            options: folder ? { cwd: folder } : {},
        };
        const clientOptions: LanguageClientOptions = {
            documentSelector: DOCUMENTS,
            outputChannel: this.output,
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            initializationOptions: () => toServerOptions(readSettings()),
        };
        const client = new LanguageClient(SECTION, "Bowerbird", executable, clientOptions);
        client.registerFeature(new ProgressFeature(client, this.tracker, (kind) => {
            this.render();
            if (kind === "end") {
                this.schedule(0); // an index or the model is ready: ask what changed
            }
        }));
        client.onDidChangeState((event) => {
            if (this.client !== client) {
                return;
            }
            if (event.newState === State.Running) {
                this.server = "running";
                this.error = undefined;
                this.schedule(FIRST_STATUS_MS);
            } else if (event.newState === State.Starting) {
                this.server = "starting";
            } else {
                this.server = this.server === "starting" ? "failed" : "stopped";
                this.status = undefined;
                this.tracker.clear();
            }
            this.render();
        });
        this.client = client;
        this.server = "starting";
        this.error = undefined;
        this.render();
        try {
            await client.start();
        } catch (error) {
            this.server = "failed";
            this.error = message(error);
            this.output.error(`the server did not start: ${this.error}`);
            this.render();
            void vscode.window
                .showErrorMessage(
                    `Bowerbird's server did not start (${this.commandLine}). Is bowerbird installed for that interpreter? See bowerbird.server.path and bowerbird.server.python.`,
                    "Show output",
                    "Open settings",
                )
                .then((choice) => {
                    if (choice === "Show output") {
                        this.output.show(true);
                    } else if (choice === "Open settings") {
                        void vscode.commands.executeCommand("workbench.action.openSettings", "bowerbird.server");
                    }
                });
        }
    }

    /** Stop the server, if one runs. */
    async stop(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        clearTimeout(this.timer);
        this.server = "stopped";
        this.status = undefined;
        this.tracker.clear();
        this.render();
        if (client !== undefined) {
            try {
                await client.dispose(); // stops the server: shutdown, exit
            } catch (error) {
                this.output.warn(`stopping the server: ${message(error)}`);
            }
        }
    }

    async restart(): Promise<void> {
        await this.queue(() => this.stop());
        await this.start();
    }

    private configurationChanged(event: vscode.ConfigurationChangeEvent): void {
        if (!event.affectsConfiguration(SECTION)) {
            return;
        }
        if (event.affectsConfiguration(`${SECTION}.enable`) || event.affectsConfiguration(`${SECTION}.server`)) {
            void this.restart();
            return;
        }
        const client = this.client;
        if (client !== undefined && client.isRunning()) {
            client
                .sendNotification(DidChangeConfigurationNotification.type, configurationChange(readSettings()))
                .then(() => this.schedule(FIRST_STATUS_MS))
                .catch((error: unknown) => this.output.warn(`sending settings: ${message(error)}`));
        }
        this.render();
    }

    /** Ask for `bowerbird.status` after `delayMs`, then again at the polling interval. */
    private schedule(delayMs: number): void {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.refreshStatus(), delayMs);
    }

    private async refreshStatus(): Promise<void> {
        const client = this.client;
        if (client === undefined || !client.isRunning()) {
            return;
        }
        // While the server indexes, `bowerbird.status` waits for the index (it counts files
        // under the root's lock): the progress already says what is going on, so wait for
        // its end, which schedules the next request.
        if (this.tracker.active().length > 0 || this.asking) {
            return;
        }
        this.asking = true;
        try {
            this.status = await this.execute(client, SERVER_COMMANDS.status);
        } catch (error) {
            this.output.warn(`${SERVER_COMMANDS.status}: ${message(error)}`);
        } finally {
            this.asking = false;
        }
        this.render();
        const state = { enabled: this.enabled(), completionsEnabled: this.completionsEnabled(), server: this.server, progress: this.tracker.active(), status: this.status };
        this.schedule(settling(state) ? POLL_SETTLING_MS : POLL_IDLE_MS);
    }

    private execute(client: LanguageClient, command: string, args: unknown[] = []): Promise<unknown> {
        return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }) as Promise<unknown>;
    }

    /** The running client, or undefined after telling the user there is none. */
    private running(): LanguageClient | undefined {
        if (this.client !== undefined && this.client.isRunning()) {
            return this.client;
        }
        void vscode.window.showWarningMessage("Bowerbird's server is not running (see Bowerbird: Show output).");
        return undefined;
    }

    async run(action: ClientAction): Promise<void> {
        const spec = COMMANDS.find((c) => c.action === action);
        switch (action) {
            case "reindex": {
                const client = this.running();
                if (client === undefined || spec?.server === undefined) {
                    return;
                }
                const server = spec.server;
                const answer = await vscode.window.withProgress(
                    { location: vscode.ProgressLocation.Window, title: "Bowerbird: reindexing" },
                    () => this.execute(client, server),
                );
                this.status = answer;
                this.render();
                const outcome = reindexMessage(answer);
                void (outcome.ok ? vscode.window.showInformationMessage(outcome.message) : vscode.window.showErrorMessage(outcome.message));
                return;
            }
            case "toggleCompletions": {
                const config = vscode.workspace.getConfiguration(SECTION);
                const scope = toggleScope(config.inspect("completion.enabled"));
                const target = scope === "workspace" ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
                await config.update("completion.enabled", !this.completionsEnabled(), target);
                return; // the configuration change sends the new value to the server
            }
            case "showOutput":
                this.output.show(true);
                return;
            case "forget": {
                const client = this.running();
                if (client === undefined || spec?.server === undefined) {
                    return;
                }
                const button = spec.confirmButton ?? "OK";
                const choice = await vscode.window.showWarningMessage(spec.confirm ?? "Are you sure?", { modal: true }, button);
                if (choice !== button) {
                    return;
                }
                const outcome = forgetMessage(await this.execute(client, spec.server));
                void (outcome.ok ? vscode.window.showInformationMessage(outcome.message) : vscode.window.showErrorMessage(outcome.message));
                return;
            }
            case "restart":
                await this.restart();
                return;
            case "menu": {
                const items = menuItems({ enabled: this.enabled(), completionsEnabled: this.completionsEnabled(), running: this.client?.isRunning() === true });
                const picked = await vscode.window.showQuickPick(items, { title: "Bowerbird" });
                if (picked === undefined) {
                    return;
                }
                if (picked.command === "settings") {
                    await vscode.commands.executeCommand("workbench.action.openSettings", "@ext:bowerbird.bowerbird");
                } else {
                    await vscode.commands.executeCommand(picked.command);
                }
                return;
            }
        }
    }

    dispose(): void {
        clearTimeout(this.timer);
        for (const disposable of this.disposables) {
            disposable.dispose();
        }
    }
}

let extension: Bowerbird | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
    extension = new Bowerbird();
    context.subscriptions.push(extension);
    await extension.start();
}

export async function deactivate(): Promise<void> {
    await extension?.stop();
    extension = undefined;
}
