import HookGate
print(HookGateVersion.current)
