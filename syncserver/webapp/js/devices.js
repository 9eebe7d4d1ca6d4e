// Devices for admins (issue 15): not built yet.
import { NotYetHere } from "./placeholder.js";

export const Devices = (props) => NotYetHere({ ...props, name: "devices" });
