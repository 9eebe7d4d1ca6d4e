// The dispatcher's calendar (issue 15): not built yet.
import { NotYetHere } from "./placeholder.js";

export const Calendar = (props) => NotYetHere({ ...props, name: "calendar" });
