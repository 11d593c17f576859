export declare const functionsDir: string;
