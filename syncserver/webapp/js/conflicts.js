// Conflict review for admins (issue 15): not built yet.
import { NotYetHere } from "./placeholder.js";

export const Conflicts = (props) => NotYetHere({ ...props, name: "conflicts" });
