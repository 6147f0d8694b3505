// zone.js must be evaluated before the SDK: the browser entry picks its context carrier at import.
import "zone.js";
import { start } from "./app.js";

start();
