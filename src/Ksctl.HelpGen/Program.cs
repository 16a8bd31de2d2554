Console.WriteLine("help generator: not yet");
