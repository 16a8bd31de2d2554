Console.WriteLine("host: not yet");
