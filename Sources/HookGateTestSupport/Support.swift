import HookGate
