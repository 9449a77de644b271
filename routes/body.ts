/** Request bodies are parsed only on the routes that take one; a GET's body is never read. */
import express from 'express';

/** JSON bodies up to 100 kB; a malformed or larger one is answered by the error handler (400, 413). */
export const jsonBody = express.json({ limit: '100kb' });
