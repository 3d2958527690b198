// Stand-in for metadata-connect, which the npm registry answers 404 for (clients.md 1).
// prolink-connect's dependency tree requires the name to resolve; nothing here calls it.
exports.isExtensionSupported = () => false;
exports.extractMetadata = async () => null;
