// Types of the one guest guard (test/helpers/guest-guard.js).
export declare const TEST_GUEST_MARKER: string;
export declare function cmdlineHasMarker(cmdline: string): boolean;
export declare function inTestGuest(): boolean;
export declare function assertInTestGuest(what?: string, how?: string): void;
