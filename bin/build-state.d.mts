/** Path of the built CLI entry, dist/cli/main.js. */
export declare const BUILT_CLI: string;
/** True when dist/ holds a build and no file of src/ is newer. */
export declare function buildIsCurrent(): boolean;
