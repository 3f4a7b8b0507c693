// Package killswitchtest holds the conformance suite every
// killswitch.Store backend runs: the memory store, sqlitestore and
// redisstore. A backend passes when it stores switches exactly, refuses
// invalid and duplicate ones, lists only the switches in force in order,
// lifts them, and shows each change in its own Matcher as soon as the
// call that made it returns, with the scope rules of package killswitch.
package killswitchtest
