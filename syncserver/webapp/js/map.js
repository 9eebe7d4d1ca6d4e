// The map of job locations (issue 15): not built yet.
import { NotYetHere } from "./placeholder.js";

export const JobMap = (props) => NotYetHere({ ...props, name: "map" });
