// Follows the server's work-done progress (`$/progress`: "Indexing <root>", "Loading model")
// for the status bar item.
//
// vscode-languageclient answers `window/workDoneProgress/create` itself and shows each progress
// in VS Code's own progress area; only one listener can follow a token, so this feature takes
// over the create request (it initializes after the client's built-in features and its
// handler replaces theirs) and the status bar item shows the progress instead.

import type * as vscode from "vscode";
import {
    type BaseLanguageClient,
    type ClientCapabilities,
    type FeatureState,
    type StaticFeature,
    WorkDoneProgress,
    WorkDoneProgressCreateRequest,
} from "vscode-languageclient/node";
import { type ProgressKind, ProgressTracker } from "./progress";

export class ProgressFeature implements StaticFeature {
    private readonly listeners = new Map<string, vscode.Disposable>();

    constructor(
        private readonly client: BaseLanguageClient,
        readonly tracker: ProgressTracker,
        private readonly changed: (kind: ProgressKind) => void,
    ) {}

    fillClientCapabilities(capabilities: ClientCapabilities): void {
        capabilities.window = { ...capabilities.window, workDoneProgress: true };
    }

    initialize(): void {
        this.client.onRequest(WorkDoneProgressCreateRequest.type, (params) => {
            this.follow(String(params.token));
        });
    }

    getState(): FeatureState {
        return { kind: "static" };
    }

    clear(): void {
        for (const listener of this.listeners.values()) {
            listener.dispose();
        }
        this.listeners.clear();
        this.tracker.clear();
        this.changed("end");
    }

    private follow(token: string): void {
        if (this.listeners.has(token)) {
            return;
        }
        const listener = this.client.onProgress(WorkDoneProgress.type, token, (value) => {
            const kind = this.tracker.apply(token, value);
            if (kind === "end") {
                this.listeners.get(token)?.dispose();
                this.listeners.delete(token);
            }
            if (kind !== undefined) {
                this.changed(kind);
            }
        });
        this.listeners.set(token, listener);
    }
}
