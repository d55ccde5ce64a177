# Placeholder until the allegro_sandbox fixture lands (replaced by the sandbox work).
