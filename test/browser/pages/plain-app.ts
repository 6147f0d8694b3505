// The app without zone.js: scopes ride on the SDK's explicit stack.
import { start } from "./app.js";

start();
