/**
 * Imported first by every bench process that runs the app. tsx turns on source maps for stack traces; `npm start`
 * (compiled, plain node) has none. Sequelize formats a stack trace on every query, so with source maps on, each
 * store read (ours, and ACE's on every checkValidToken) would cost far more than it does in a deployment.
 */
process.setSourceMapsEnabled(false);
