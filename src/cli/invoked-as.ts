// How the person ran the CLI, so that the commands it prints run as printed: the clone's
// wrapper (`./cognito-sync`) passes the path it was called by; an installed package is on PATH.
// (Not COGNITO_SYNC_*: that prefix overrides config fields.)
export const invokedAs = (): string => process.env.CDC_SYNC_INVOKED_AS || 'cognito-sync';
