// Users and tokens for admins (issue 15): not built yet.
import { NotYetHere } from "./placeholder.js";

export const Users = (props) => NotYetHere({ ...props, name: "users" });
